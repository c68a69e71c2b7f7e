"""Start, wait for and stop the local processes (engine, chalice local) by PID."""

from __future__ import annotations

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


def spawn(
    args: list[str], env: Mapping[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a process in its own process group (so its children stop with it)."""
    out = log.open("ab") if log else None  # None: inherit the terminal
    return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM the process group, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def start_engine(port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    """The embedded DynamoDB engine on 127.0.0.1:port, answering when this returns."""
    proc = spawn([sys.executable, "-m", "tools.dynamodb_engine", "--port", str(port)], log=log)
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", proc=proc)
    return proc


def start_chalice_local(
    port: int, env: Mapping[str, str], stage: str = "local", log: Path | None = None, reload: bool = False
) -> subprocess.Popen[bytes]:
    """`chalice local` on 127.0.0.1:port, answering /health when this returns."""
    chalice = str(Path(sys.executable).with_name("chalice"))
    args = [chalice, "local", "--host", "127.0.0.1", "--port", str(port), "--stage", stage]
    if not reload:
        args.append("--no-autoreload")
    proc = spawn(args, env=env, log=log)
    wait_for_http(f"http://127.0.0.1:{port}/health", timeout=60, proc=proc)
    return proc
