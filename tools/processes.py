"""Start, wait for and stop the local processes (engine, chalice local) by PID."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll until the URL answers any HTTP status; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback URL we built
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM me when the process that started me dies (Linux)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def spawn(
    args: list[str],
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    own_group: bool = True,
    cwd: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """Start a process in its own process group (so its children stop with it), or, with
    ``own_group=False``, in the caller's group and bound to the caller's life: a supervisor's
    children then stop with it however it stops (Ctrl-C, ``kill -9`` of its group or of it)."""
    out = log.open("ab") if log else None  # None: inherit the terminal
    return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=own_group,
        preexec_fn=None if own_group else _die_with_parent,  # the supervisor has no threads
    )


def stop(
    proc: subprocess.Popen[bytes], timeout: float = 10, group: bool = True, kill_group: bool | None = None
) -> None:
    """SIGTERM the process group (or only the process), then SIGKILL if it lingers.

    ``kill_group`` (default: as ``group``) says whether that SIGKILL goes to the whole group:
    a supervisor is asked alone to stop its children in order, but killed with them."""
    if proc.poll() is not None:
        return
    try:
        (os.killpg if group else os.kill)(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        (os.killpg if (group if kill_group is None else kill_group) else os.kill)(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def start_engine(
    port: int, log: Path | None = None, data_dir: Path | None = None, own_group: bool = True
) -> subprocess.Popen[bytes]:
    """The embedded DynamoDB engine on 127.0.0.1:port, answering when this returns.

    With ``data_dir`` it is durable (journal + snapshot there) and has replayed them."""
    args = [sys.executable, "-m", "tools.dynamodb_engine", "--port", str(port)]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    proc = spawn(args, log=log, own_group=own_group)
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", timeout=300 if data_dir else 30, proc=proc)
    return proc


def chalice_local_args(port: int, stage: str = "local", reload: bool = False) -> list[str]:
    """The command line of `chalice local` on 127.0.0.1:port."""
    chalice = str(Path(sys.executable).with_name("chalice"))
    args = [chalice, "local", "--host", "127.0.0.1", "--port", str(port), "--stage", stage]
    return args if reload else [*args, "--no-autoreload"]


def start_chalice_local(
    port: int,
    env: Mapping[str, str],
    stage: str = "local",
    log: Path | None = None,
    reload: bool = False,
    own_group: bool = True,
) -> subprocess.Popen[bytes]:
    """`chalice local` on 127.0.0.1:port, answering /health when this returns; if it does
    not answer (RuntimeError, TimeoutError), it has been stopped."""
    proc = spawn(chalice_local_args(port, stage, reload), env=env, log=log, own_group=own_group)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", timeout=60, proc=proc)
    except (RuntimeError, TimeoutError):
        stop(proc, group=own_group)
        raise
    return proc
