"""The embedded DynamoDB-compatible engine for `make run` and the tests: moto's server.

moto's own server handles requests on threads without a lock around the DynamoDB
backend, so two conditional writes racing on one item could both "succeed" — which real
DynamoDB never allows. This wrapper runs each request under one lock: requests are
atomic and serialised, as DynamoDB's item-level writes and transactions are. That is
what makes the race tests (one e-mail, twenty registrations) meaningful here.

    python -m tools.dynamodb_engine --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any


def serialised(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """A WSGI app that runs one request at a time through `app`."""
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            # Materialise the body inside the lock: the backend work happens while iterating.
            return list(app(environ, start_response))

    return wsgi


def main(argv: list[str] | None = None) -> None:
    """Serve the embedded DynamoDB engine (moto, one request at a time) until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import MotoRequestHandler  # type: ignore[attr-defined]
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    dispatcher = DomainDispatcherApplication(create_backend_app)
    print(f"embedded DynamoDB engine on http://{args.host}:{args.port}", flush=True)
    run_simple(
        args.host,
        args.port,
        serialised(dispatcher),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
