"""The Python blocks of README.md and clients/python/README.md type-check (`mypy --strict`).

A README's blocks are read in order as one module (a later block may use an earlier one's
names), with the generated client importable, as a reader who copies them would have it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READMES = (ROOT / "README.md", ROOT / "clients" / "python" / "README.md")
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(markdown: str) -> list[str]:
    """The ```python blocks of a Markdown text, in order."""
    return BLOCK.findall(markdown)


def test_blocks_are_found_whole() -> None:
    text = "intro\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny: int = x\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y: int = x\n"]


def test_the_client_readme_is_the_hand_written_one() -> None:
    # `make client` regenerates clients/python/ and copies this README in (tools/openapi_release.py)
    written = (ROOT / "clients" / "README.python.md").read_text(encoding="utf-8")
    assert READMES[1].read_text(encoding="utf-8") == written


@pytest.mark.slow
def test_readme_python_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    modules = []
    for readme in READMES:
        blocks = python_blocks(readme.read_text(encoding="utf-8"))
        assert blocks, f"{readme} has no python block"
        module = tmp_path / f"snippets_{readme.parent.name}.py"
        module.write_text("\n".join(blocks), encoding="utf-8")
        modules.append(str(module))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "", *modules],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"MYPYPATH": str(ROOT / "clients" / "python"), "PATH": ""},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
