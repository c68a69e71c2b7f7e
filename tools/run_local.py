"""`make run`: the embedded engine, the table, data, and `chalice local`, supervised together.

Local data lives in the data directory (``--data-dir``, default .local/): the engine's
journal.jsonl + snapshot.jsonl (every acknowledged write, fsynced before its answer),
engine.log, jwt-secret (a random key made on first run, so tokens survive restarts) and
admin.json (the demo admin's credentials), payment-webhook-secret (the payment provider's
Standard Webhooks secret, made on first run; `manage.py pay` signs with it). `make reset` deletes the folder.

The supervisor polls once a second, at ≈ 0 CPU (a stat of ~110 source files):
- a source file of the app changed (app.py, chalicelib/**/*.py, .chalice/config.json) →
  one line ``source changed: <file>; restarting API`` and `chalice local` is restarted
  (it runs with --no-autoreload, so data, logs and .venv never restart it);
- the engine died → it is restarted on the same port and replays its journal; if it dies
  again and again (3 times in 60 s) or cannot start, everything stops with one line;
- the API died → it is started again (a syntax error: it waits for the next source change).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from tools import processes

ADMIN_EMAIL = "admin@storefront.local"
ENGINE_RESTARTS = 3  # at most this many crashes ...
ENGINE_WINDOW = 60.0  # ... within this many seconds, or the supervisor gives up


class Stop(Exception):
    """Raised from the signal handler to leave the serving loop."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise Stop()


def source_files(root: Path) -> list[Path]:
    """The files whose change restarts the API: what `chalice local` imports and reads."""
    files = [root / "app.py", root / ".chalice" / "config.json"]
    files += sorted((root / "chalicelib").rglob("*.py"))
    return [path for path in files if path.is_file()]


class SourceWatch:
    """Stat polling of the app's source files (new and deleted files count as changes)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen = self._stat()

    def _stat(self) -> dict[Path, tuple[int, int]]:
        stats: dict[Path, tuple[int, int]] = {}
        for path in source_files(self.root):
            try:
                st = path.stat()
            except FileNotFoundError:  # deleted between the listing and the stat
                continue
            stats[path] = (st.st_mtime_ns, st.st_size)
        return stats

    def changed(self) -> list[Path]:
        """Files added, removed or modified since the last call."""
        now = self._stat()
        paths = {p for p in now.keys() | self.seen.keys() if now.get(p) != self.seen.get(p)}
        self.seen = now
        return sorted(paths)

    def settle(self, first: list[Path], quiet: float = 0.3, limit: float = 3.0) -> list[Path]:
        """Wait until an editor's save is over (no change for `quiet` s); all files changed."""
        changed = set(first)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            time.sleep(quiet)
            more = self.changed()
            if not more:
                break
            changed.update(more)
        return sorted(changed)


@dataclass
class Stack:
    """The two children and how to (re)start them."""

    args: argparse.Namespace
    env: dict[str, str]
    say: Callable[[str], None]
    engine: subprocess.Popen[bytes] | None = None
    api: subprocess.Popen[bytes] | None = None
    crashes: list[float] = field(default_factory=list)

    def start_engine(self) -> None:
        """Start the engine on its data directory and wait for it."""
        data: Path = self.args.data_dir
        self.engine = processes.start_engine(
            self.args.dynamodb_port, log=data / "engine.log", data_dir=data, own_group=False
        )
        self.say(f"DynamoDB engine (moto, embedded, journaled) on {self.env['DYNAMODB_ENDPOINT']}")
        self.say(f"engine pid {self.engine.pid}")

    def start_api(self) -> bool:
        """`chalice local` (no autoreload: this supervisor decides when it restarts)."""
        try:
            self.api = processes.start_chalice_local(self.args.port, self.env, own_group=False)
        except (RuntimeError, TimeoutError) as exc:
            self.say(f"API did not start ({exc}); waiting for the next source change")
            return False
        self.say(f"API pid {self.api.pid}")
        return True

    def stop_api(self) -> None:
        """Stop chalice local (its whole process group)."""
        if self.api is not None:
            processes.stop(self.api, group=False)
            self.api = None

    def engine_died(self) -> bool:
        """Restart a dead engine; False when it keeps dying (the caller stops everything)."""
        assert self.engine is not None
        code = self.engine.returncode
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < ENGINE_WINDOW] + [now]
        if len(self.crashes) > ENGINE_RESTARTS:
            self.say(f"engine exited ({code}) {len(self.crashes)} times in {ENGINE_WINDOW:.0f} s; stopping")
            return False
        self.say(f"engine exited ({code}); restarting it (its journal is replayed)")
        try:
            self.start_engine()
        except (RuntimeError, TimeoutError) as exc:
            log = self.args.data_dir / "engine.log"
            self.say(f"engine could not start again ({exc}; see {log}); stopping")
            return False
        return True

    def stop(self) -> None:
        """Stop the API, then the engine (which compacts its data)."""
        self.stop_api()
        if self.engine is not None:
            processes.stop(self.engine, timeout=120, group=False)  # it compacts its journal first


def _local_secret(data: Path, name: str, size: int) -> str:
    path = data / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(size), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _webhook_secret(data: Path) -> str:
    """The payment provider's webhook secret for this machine (`manage.py pay` signs with it)."""
    path = data / "payment-webhook-secret"
    if not path.exists():
        path.write_text("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _admin_credentials(data: Path) -> dict[str, str]:
    path = data / "admin.json"
    if not path.exists():
        path.write_text(json.dumps({"email": ADMIN_EMAIL, "password": secrets.token_urlsafe(12)}))
        path.chmod(0o600)
    credentials: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return credentials


def create_admin_args(email: str, password: str) -> list[str]:
    """manage.py's create-admin arguments (`make run`, and the emulator deploy's). Each value
    as `--name=<value>`, not two words: a generated password starts with "-" one time in 64,
    and argparse takes a separate "-…" for an option (a first start then failed)."""
    return ["create-admin", f"--email={email}", f"--password={password}"]


def _prepare_data(data: Path) -> dict[str, str]:
    """Create the table; on the first start seed demo data and the admin (or import an old dump)."""
    import manage  # imported after the environment is set: settings are read on first use

    manage.main(["create-table"])
    admin = _admin_credentials(data)
    marker = data / "seeded"
    if marker.exists():
        return admin
    old_dump = data / "data.jsonl"  # the format before the journal: imported once
    if old_dump.exists():
        manage.main(["load", "--file", str(old_dump)])
        old_dump.replace(old_dump.with_suffix(".jsonl.imported"))
    else:
        manage.main(["seed"])
        manage.main(create_admin_args(admin["email"], admin["password"]))
    marker.touch()  # seed and admin are idempotent: a start killed before this line redoes them
    return admin


def _start_publisher(stop: threading.Event) -> None:
    """The event publisher (tools/event_publisher.py) on a thread: the stream → EVENTS_FILE."""
    from chalicelib.config import get_settings, reset_settings
    from tools.event_publisher import publisher_for

    reset_settings()  # EVENTS_FILE and the endpoint are in the environment now
    publisher = publisher_for(get_settings())
    threading.Thread(target=publisher.run, args=(stop,), name="event-publisher", daemon=True).start()


def _say(line: str) -> None:
    print(line, flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("DYNAMODB_PORT", "8001")))
    parser.add_argument("--data-dir", type=Path, default=processes.ROOT / ".local")
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    return args


def serve(stack: Stack, watch: SourceWatch, poll: float) -> int:
    """The supervision loop; returns the exit code."""
    while True:
        time.sleep(poll)
        assert stack.engine is not None
        if stack.engine.poll() is not None and not stack.engine_died():
            return 1
        changed = watch.changed()
        if changed:
            changed = watch.settle(changed)
            shown = str(changed[0].relative_to(watch.root))
            more = f" (+{len(changed) - 1} more)" if len(changed) > 1 else ""
            stack.say(f"source changed: {shown}{more}; restarting API")
            stack.stop_api()
            stack.start_api()
        elif stack.api is not None and stack.api.poll() is not None:
            stack.say(f"API exited ({stack.api.returncode}); starting it again")
            stack.start_api()


def main(argv: list[str] | None = None) -> int:
    """Run `make run`: the engine and chalice local, supervised; the exit code."""
    args = _parse(argv)
    data: Path = args.data_dir
    data.mkdir(parents=True, exist_ok=True)
    env = {
        "STAGE": "local",
        "TABLE_NAME": os.environ.get("TABLE_NAME", "storefront-local"),
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{args.dynamodb_port}",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_XRAY_SDK_ENABLED": "false",
        "JWT_SECRET": os.environ.get("JWT_SECRET") or _local_secret(data, "jwt-secret", 48),
        "EVENTS_FILE": os.environ.get("EVENTS_FILE") or str(data / "events.jsonl"),
        "PAYMENT_WEBHOOK_SECRET": os.environ.get("PAYMENT_WEBHOOK_SECRET") or _webhook_secret(data),
        # Account mails: one .eml file each, and its link printed here (docs/accounts.md)
        "MAIL_DIR": os.environ.get("MAIL_DIR") or str(data / "mail"),
        "MAIL_ECHO": "true",
        "MAIL_LINK_BASE": os.environ.get("MAIL_LINK_BASE") or f"http://127.0.0.1:{args.port}",
    }
    os.environ.update(env)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stack = Stack(args, env, _say)
    publishing = threading.Event()
    try:
        stack.start_engine()
        admin = _prepare_data(data)
        _start_publisher(publishing)
        watch = SourceWatch(processes.ROOT)
        if not stack.start_api():
            return 1
        base = f"http://127.0.0.1:{args.port}"
        print(f"\nStorefront API on {base}  (try: curl {base}/health)")
        print(f"Admin: {admin['email']} / {admin['password']}")
        print(f"Data: {data} (every acknowledged write is on disk before its answer)")
        print(f"Events: {env['EVENTS_FILE']} (one CloudEvent per line)")
        # manage.py reads the order from this engine: name it unless it is the default one.
        engine = "" if args.dynamodb_port == 8001 else f"DYNAMODB_ENDPOINT={env['DYNAMODB_ENDPOINT']} "
        pay = f"{engine}.venv/bin/python manage.py pay ORDER_ID --api {base}"
        print(f"Pay an order as the provider would: {pay}")
        print(f"Mail: {env['MAIL_DIR']} (one .eml per mail; each mail's link is printed here)")
        print("The API restarts when app.py, chalicelib/ or .chalice/config.json change. Ctrl-C stops.\n")
        sys.stdout.flush()
        return serve(stack, watch, args.poll_seconds)
    except Stop:
        return 0
    finally:
        publishing.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
