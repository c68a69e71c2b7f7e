"""`make run`: the embedded engine, the table, data, and `chalice local`, stopped together.

Local data lives under .local/: data.jsonl (saved on Ctrl-C and every minute),
jwt-secret (a random key made on first run, so tokens survive restarts) and
admin.json (the demo admin's credentials). `make reset` deletes the folder.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from types import FrameType

from tools import processes

LOCAL = processes.ROOT / ".local"
DATA = LOCAL / "data.jsonl"
ADMIN_EMAIL = "admin@storefront.local"


class Stop(Exception):
    """Raised from the signal handler to leave the serving loop."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise Stop()


def _local_secret(name: str, size: int) -> str:
    path = LOCAL / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(size), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _admin_credentials() -> dict[str, str]:
    path = LOCAL / "admin.json"
    if not path.exists():
        path.write_text(json.dumps({"email": ADMIN_EMAIL, "password": secrets.token_urlsafe(12)}))
        path.chmod(0o600)
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _prepare_data() -> dict[str, str]:
    """Create the table, then load the saved data or seed demo data and the admin."""
    import manage  # imported after the environment is set: settings are read on first use

    manage.main(["create-table"])
    admin = _admin_credentials()
    if DATA.exists():
        manage.main(["load", "--file", str(DATA)])
    else:
        if "seed" in manage.COMMANDS:
            manage.main(["seed"])
        if "create-admin" in manage.COMMANDS:
            manage.main(["create-admin", "--email", admin["email"], "--password", admin["password"]])
    return admin


def _save() -> None:
    import manage

    manage.main(["dump", "--file", str(DATA)])
    DATA.chmod(0o600)  # it holds password hashes


def main(argv: list[str] | None = None) -> int:
    """Run `make run`: the engine and chalice local, supervised; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("DYNAMODB_PORT", "8001")))
    parser.add_argument("--autosave-seconds", type=float, default=60)
    args = parser.parse_args(argv)
    LOCAL.mkdir(exist_ok=True)
    env = {
        "STAGE": "local",
        "TABLE_NAME": os.environ.get("TABLE_NAME", "storefront-local"),
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{args.dynamodb_port}",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_XRAY_SDK_ENABLED": "false",
        "JWT_SECRET": os.environ.get("JWT_SECRET") or _local_secret("jwt-secret", 48),
    }
    os.environ.update(env)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    engine = api = None
    try:
        engine = processes.start_engine(args.dynamodb_port, log=LOCAL / "engine.log")
        print(f"DynamoDB engine (moto, embedded) on {env['DYNAMODB_ENDPOINT']}", flush=True)
        admin = _prepare_data()
        api = processes.start_chalice_local(args.port, env=env, stage="local", reload=True)
        base = f"http://127.0.0.1:{args.port}"
        print(f"\nStorefront API on {base}  (try: curl {base}/health)")
        print(f"Admin: {admin['email']} / {admin['password']}")
        print("Ctrl-C stops the API and the engine and saves the data to .local/\n", flush=True)
        while True:
            time.sleep(args.autosave_seconds)
            if api.poll() is not None:
                print("chalice local exited; stopping", file=sys.stderr)
                return 1
            _save()
    except Stop:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if api is not None:
            processes.stop(api)
        if engine is not None and engine.poll() is None:
            _save()
            processes.stop(engine)
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
