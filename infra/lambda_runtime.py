"""The Lambda runtime the package targets (python3.13), and the two local interpreters
that stand for it:

- the **packaging venv** (`.venv-package313`): Python 3.13 with chalice and the runtime
  requirements. chalice takes the function runtime from the interpreter that runs
  `chalice package` (and picks cp313 wheels for it), and the bytecode added to the zip
  must carry 3.13's magic number, so both steps run there. The development venv stays on
  3.11 (`make run`, `make test`).
- the **runtime stand-in** (`.cache/lambda-runtime-py313/`): only what the Lambda Python
  runtime itself provides, installed with `pip --target` (boto3/botocore at the pinned
  versions and their dependencies, snapshot-restore-py). The zip test runs the unzipped
  package with `python3.13 -I -S` and this folder on `sys.path` behind the task root, as
  Lambda orders `/var/task` before `/var/runtime`.

Both are made on first use and remade when their requirements change (a stamp holds a
hash of them). Finding 3.13: `$PYTHON313`, then `python3.13` on PATH, then pyenv's
versions folder.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra.stage import ROOT

RUNTIME = "python3.13"
VERSION = (3, 13)
PACKAGING_VENV = ROOT / ".venv-package313"
STANDIN_DIR = ROOT / ".cache" / "lambda-runtime-py313"
RUNTIME_REQUIREMENTS = ROOT / "requirements-lambda-runtime.txt"
# The packaging tool itself, beside the runtime requirements (same pin as requirements-dev.txt).
PACKAGING_TOOLS = ("pip<26.3", "setuptools<81", "wheel", "chalice==1.34.0")
_STAMP = ".storefront-stamp"


class RuntimeUnavailable(RuntimeError):
    """No Python 3.13 interpreter on this machine (or its set-up failed)."""


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(  # noqa: S603 - an interpreter path we found ourselves
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return (int(out[0]), int(out[1])) if len(out) == 2 else None


def candidates() -> list[str]:
    """Where a 3.13 interpreter may be, most explicit first."""
    found = [os.environ.get("PYTHON313", ""), shutil.which("python3.13") or ""]
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    for root in filter(None, roots):
        found += sorted(glob.glob(f"{root}/versions/3.13*/bin/python3.13"), reverse=True)
    return list(dict.fromkeys(c for c in found if c))


def find_python() -> str:
    """A Python 3.13 interpreter, or RuntimeUnavailable saying where it looked."""
    for python in candidates():
        # pyenv's shim answers for whatever version is selected: ask it for 3.13.
        if _version_of(python) == VERSION:
            return python
    raise RuntimeUnavailable(
        "no Python 3.13 interpreter found (looked at $PYTHON313, python3.13 on PATH, "
        "pyenv versions/3.13*); install one, e.g. `pyenv install 3.13`"
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _fresh(directory: Path, digest: str) -> bool:
    stamp = directory / _STAMP
    return stamp.exists() and stamp.read_text(encoding="utf-8").strip() == digest


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise RuntimeUnavailable(f"{what} failed:\n{tail}")


def packaging_python(root: Path = ROOT) -> Path:
    """The packaging venv's interpreter; the venv is (re)made when requirements change."""
    venv = root / PACKAGING_VENV.name
    requirements = (root / "requirements.txt").read_text(encoding="utf-8")
    digest = _digest(*PACKAGING_TOOLS, requirements)
    python = venv / "bin" / "python"
    if _fresh(venv, digest) and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    _run([find_python(), "-m", "venv", str(venv)], "creating the 3.13 packaging venv")
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, *PACKAGING_TOOLS[:3]], "installing pip/setuptools into the packaging venv")
    _run(
        [*pip, PACKAGING_TOOLS[3], "-r", str(root / "requirements.txt")], "installing chalice + requirements"
    )
    (venv / _STAMP).write_text(digest + "\n", encoding="utf-8")
    return python


def standin_runtime(root: Path = ROOT) -> Path:
    """The folder holding only what the Lambda python3.13 runtime provides (made once)."""
    target = root / STANDIN_DIR.relative_to(ROOT)
    requirements = (root / RUNTIME_REQUIREMENTS.name).read_text(encoding="utf-8")
    digest = _digest(requirements)
    if _fresh(target, digest):
        return target
    shutil.rmtree(target, ignore_errors=True)
    command = [find_python(), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    command += ["--no-user", "--target", str(target), "-r", str(root / RUNTIME_REQUIREMENTS.name)]
    _run(command, "installing the Lambda runtime stand-in")
    (target / _STAMP).write_text(digest + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: find the 3.13 interpreter, or make the packaging venv or the runtime stand-in."""
    parser = argparse.ArgumentParser(prog="python -m infra.lambda_runtime", description=__doc__)
    parser.add_argument("what", choices=["find", "packaging-venv", "standin"])
    args = parser.parse_args(argv)
    try:
        if args.what == "find":
            print(find_python())
        elif args.what == "packaging-venv":
            print(packaging_python())
        else:
            print(standin_runtime())
    except RuntimeUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
