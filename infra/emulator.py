"""MiniStack, the AWS emulator behind `make deploy-local` and tests/deployed/.

It lives in its own python3.13 venv (`.venv-ministack`, from requirements-ministack.txt, made
by `make ministack-venv`): MiniStack runs Python Lambda functions with its own interpreter,
so that venv is also the functions' runtime there. It listens on 127.0.0.1 only, on a free
or given port, keeps its temporary files (the functions' unpacked code) under its state
directory, and is stopped by its PID: SIGTERM to its process group, which holds the
function workers it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tools import processes

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-ministack"
STAMP = VENV / ".installed"
STATE_DIR = ROOT / ".local" / "ministack"
REGION = "us-east-1"
# Any key works (MiniStack enforces no IAM); fixed ones keep every client in one account.
ACCESS_KEY = SECRET_KEY = "test"  # noqa: S105 - not a secret: the emulator takes any


_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
# The emulators this process started, so `stop` can reap them (no zombie left behind).
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


class EmulatorError(RuntimeError):
    """The emulator is not installed, did not start, or did not stop."""


@dataclass(frozen=True)
class Emulator:
    """A running MiniStack: its process (group) id, port and state directory."""

    pid: int
    port: int
    state_dir: Path

    @property
    def endpoint(self) -> str:
        """The URL every AWS client uses (`endpoint_url`)."""
        return f"http://127.0.0.1:{self.port}"


def python() -> Path:
    """The venv's interpreter, once `make ministack-venv` has made it."""
    if not STAMP.exists():
        raise EmulatorError(f"{VENV.name} is not installed: run `make ministack-venv` first")
    return VENV / "bin" / "python"


def start(port: int | None = None, state_dir: Path = STATE_DIR, timeout: float = 90) -> Emulator:
    """Start MiniStack on 127.0.0.1 (a free port unless one is given); answering on return."""
    port = port or processes.free_port()
    if _listening(port):
        raise EmulatorError(f"127.0.0.1:{port} is already in use")
    tmp = state_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    # Only these variables: MiniStack hands its whole environment to the function workers,
    # so a caller's DYNAMODB_ENDPOINT, TABLE_NAME, JWT_SECRET or AWS_* would reach the
    # functions and override what the stack configured (as they never could on Lambda).
    env = {
        **{name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ},
        "PYTHONDONTWRITEBYTECODE": "1",
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "MINISTACK_REGION": REGION,
        "TMPDIR": str(tmp),  # the unpacked functions and MiniStack's PID file
        "LOG_LEVEL": "WARNING",
        "PERSIST_STATE": "0",
    }
    with (state_dir / "ministack.log").open("ab") as log:
        command = [str(python()), "-m", "ministack"]
        proc = subprocess.Popen(  # noqa: S603 - the venv's own interpreter and module
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    emulator = Emulator(proc.pid, port, state_dir)
    _STARTED[proc.pid] = proc
    try:
        processes.wait_for_http(f"{emulator.endpoint}/_ministack/health", timeout=timeout, proc=proc)
    except (RuntimeError, TimeoutError) as exc:
        processes.stop(proc)
        raise EmulatorError(f"MiniStack did not start ({exc}); see {state_dir / 'ministack.log'}") from exc
    (state_dir / "emulator.json").write_text(json.dumps({"pid": proc.pid, "port": port}), encoding="utf-8")
    return emulator


def running(state_dir: Path = STATE_DIR) -> Emulator | None:
    """The emulator `start` recorded in `state_dir`, if its process is still alive."""
    record = state_dir / "emulator.json"
    if not record.exists():
        return None
    fields = json.loads(record.read_text(encoding="utf-8"))
    emulator = Emulator(int(fields["pid"]), int(fields["port"]), state_dir)
    return emulator if _alive(emulator.pid) else None


def stop(emulator: Emulator, timeout: float = 20) -> None:
    """SIGTERM its process group (MiniStack and its function workers), SIGKILL what lingers;
    return once the port is free. Its temporary files go too."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(emulator.pid, sig)
        except ProcessLookupError:
            break
        if _wait(lambda: not group_running(emulator.pid), timeout):
            break
    if group_running(emulator.pid):
        raise EmulatorError(f"process group {emulator.pid} still running after SIGKILL")
    started = _STARTED.pop(emulator.pid, None)
    if started is not None:
        started.wait(timeout)
    if not _wait(lambda: not _listening(emulator.port), timeout):
        raise EmulatorError(f"127.0.0.1:{emulator.port} still listening after stopping {emulator.pid}")
    (emulator.state_dir / "emulator.json").unlink(missing_ok=True)
    shutil.rmtree(emulator.state_dir / "tmp", ignore_errors=True)


def _wait(done: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def group_running(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies, waiting to be reaped, do not)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # Only zombies left (their parent reaps them): nothing runs.
    return any(not _zombie(pid) for pid in _group_members(pgid))


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def _zombie(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
