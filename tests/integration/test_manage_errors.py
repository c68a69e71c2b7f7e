"""Operator commands fail with one line, not a traceback, when the engine cannot be reached."""

from __future__ import annotations

import pytest

from chalicelib.api import deps
from manage import main
from tools import processes


def test_an_unreachable_engine_is_one_line_and_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an endpoint where nothing listens
    endpoint = f"http://127.0.0.1:{processes.free_port()}"
    monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
    deps.reset()
    try:
        # When an operator pays an order through it
        code = main(["pay", "01ORDER", "--api", "http://127.0.0.1:9"])
    finally:
        monkeypatch.undo()
        deps.reset()
    # Then one line names the endpoint, and the exit code says it failed
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert f"cannot reach DynamoDB at {endpoint}" in err
    assert "Traceback" not in err
