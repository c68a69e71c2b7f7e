"""The gates that keep one pattern: complexity, banned mock.patch, docstrings, and a
pre-commit configuration that runs what `make lint` and `make typecheck` run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def ruff(source: str, filename: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--stdin-filename",
            filename,
            "--output-format",
            "concise",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return result.stdout


@pytest.mark.parametrize(
    "source",
    [
        "from unittest.mock import patch\n",
        "from unittest import mock\n\nmock.patch('x')\n",
        "import mock\n\nmock.patch.object(object, 'x')\n",
    ],
)
def test_mock_patch_is_banned_even_in_tests(source: str) -> None:
    assert "TID251" in ruff(source, "tests/unit/test_example.py")


def test_a_function_above_the_complexity_limit_is_refused() -> None:
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(11))
    source = f'def f(x: int) -> int:\n    """Many branches."""\n{branches}    return -1\n'
    assert "C901" in ruff(source, "chalicelib/example.py")


def test_public_functions_need_a_docstring_outside_tests() -> None:
    source = "def f() -> int:\n    return 1\n"
    assert "D103" in ruff(source, "chalicelib/example.py")
    assert "D103" not in ruff(source, "tests/unit/test_example.py")


def test_pre_commit_runs_what_make_lint_and_make_typecheck_run() -> None:
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for command in ("-m ruff check", "-m ruff format --check", "-m mypy"):
        assert f"$(PY) {command}" in makefile
        assert f"entry: .venv/bin/python {command}" in config
