"""Session fixtures for the deployment tests: the prod zip unzipped once (both stages are
packaged once per session by tests/conftest.py), and the Lambda runtime stand-in.

Packaging needs a Python 3.13 interpreter (the functions' runtime); on a machine without
one these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra import build, lambda_runtime

HARNESS = Path(__file__).with_name("lambda_harness.py")


@pytest.fixture(scope="session")
def standin_runtime(python313: str) -> Path:
    """What the Lambda python3.13 runtime provides, and nothing else (made once, cached)."""
    return lambda_runtime.standin_runtime()


@dataclass(frozen=True)
class Unzipped:
    """The prod package as Lambda sees it: the zip in /var/task, the SAM template."""

    task_root: Path
    template: dict[str, Any]
    names: list[str]


@pytest.fixture(scope="session")
def unzipped(packages: dict[str, build.Package], tmp_path_factory: pytest.TempPathFactory) -> Unzipped:
    task = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(packages["prod"].zip) as archive:
        archive.extractall(task)
        names = archive.namelist()
    template = json.loads(packages["prod"].template.read_text(encoding="utf-8"))
    return Unzipped(task, template, names)


class FunctionProcess:
    """One Lambda function in its own fresh 3.13 interpreter (tests/deploy/lambda_harness.py)."""

    def __init__(
        self, python: str, task_root: Path, runtime: Path, handler: str, env: dict[str, str], log: Path
    ) -> None:
        self.handler = handler
        self.answers: list[dict[str, Any]] = []
        self._log = log.open("w")
        command = [python, "-I", "-S", "-B", str(HARNESS), str(task_root), str(runtime), handler]
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            text=True,
            start_new_session=True,
        )

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        assert line, f"{self.handler}: the function's interpreter died (stderr in {self._log.name})"
        answer: dict[str, Any] = json.loads(line)
        self.answers.append(answer)
        return answer

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()
        self._log.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    """Start FunctionProcesses; every one is stopped at the end of the test."""
    started: list[FunctionProcess] = []

    def start(
        python: str, task_root: Path, runtime: Path, handler: str, env: dict[str, str]
    ) -> FunctionProcess:
        log = tmp_path / f"{handler}-{len(started)}.stderr"
        process = FunctionProcess(python, task_root, runtime, handler, env, log)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()
