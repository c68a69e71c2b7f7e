"""A local webhook receiver: verifies each delivery's Standard Webhooks signature with the
`standardwebhooks` library, prints the event, and counts a redelivery (same `webhook-id`) once.

    python -m tools.webhook_receiver --secret whsec_... [--port 9000] [--fail 2]

`--fail N` answers 500 to the first N deliveries (to watch the retries arrive with the same id).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """The receiver's state: verified events by id, how many deliveries were seen and refused."""

    def __init__(self, secret: str, fail_first: int = 0, out: Any = None) -> None:
        from standardwebhooks.webhooks import Webhook

        self.webhook = Webhook(secret)
        self.fail_first = fail_first
        self.out = out
        self.events: dict[str, dict[str, Any]] = {}
        self.deliveries = 0
        self.rejected = 0
        self.ids: list[str] = []  # the webhook-id of every verified delivery, in arrival order
        self.lock = threading.Lock()

    def receive(self, body: bytes, headers: dict[str, str]) -> int:
        """The status answered to one delivery."""
        from standardwebhooks.webhooks import WebhookVerificationError

        try:
            event = self.webhook.verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.rejected += 1
            return 401
        with self.lock:
            self.deliveries += 1
            self.ids.append(headers["webhook-id"])
            if self.deliveries <= self.fail_first:
                return 500
            again = event["id"] in self.events
            self.events[event["id"]] = event
        if self.out is not None:
            note = " (again: counted once)" if again else ""
            print(f"{event['type']} {event['subject']} id={event['id']}{note}", file=self.out, flush=True)
        return 204

    def serve(self, port: int = 0) -> ThreadingHTTPServer:
        """An HTTP server on 127.0.0.1:port (0: a free one) answering with `receive`."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.receive(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main(argv: list[str] | None = None) -> int:
    """Receive until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secret", required=True, help="the subscription's secret (whsec_...)")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--fail", type=int, default=0, help="answer 500 to this many deliveries first")
    args = parser.parse_args(argv)
    server = Receiver(args.secret, args.fail, sys.stdout).serve(args.port)
    print(f"webhook receiver on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
