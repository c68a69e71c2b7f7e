"""`make openapi` and `make client`: the released OpenAPI document and the typed client.

    python -m tools.openapi_release document   # docs/openapi.json from the app, in-process
    python -m tools.openapi_release client     # clients/python/ from docs/openapi.json

`document` refuses to overwrite the released document with a breaking change unless the
version is bumped and CHANGELOG.md records it (tools/openapi_diff.py); additive changes
just refresh it. `client` runs openapi-python-client (pinned in requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from chalicelib import __version__
from chalicelib.api.openapi import document_text
from tools.openapi_diff import release_problems

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
CHANGELOG = ROOT / "CHANGELOG.md"
CLIENT = ROOT / "clients" / "python"
GENERATOR_CONFIG = ROOT / "clients" / "openapi-python-client.yaml"
# The client's README is written by hand (the generator's is boilerplate) and copied in.
CLIENT_README = ROOT / "clients" / "README.python.md"
DOCS = "/docs"


def current_document() -> dict[str, Any]:
    """The document the app serves at /openapi.json for this version."""
    doc: dict[str, Any] = json.loads(document_text(__version__))
    return doc


def render(document: dict[str, Any]) -> str:
    """The committed form: pretty-printed, sorted keys, a final newline (stable diffs)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_document(target: Path = DOCUMENT, changelog: Path = CHANGELOG) -> list[str]:
    """Refresh the released document; the problems that forbid it (nothing written then)."""
    new = current_document()
    if target.exists():
        old = json.loads(target.read_text(encoding="utf-8"))
        problems = release_problems(old, new, changelog.read_text(encoding="utf-8"))
        if problems:
            return problems
    target.write_text(render(new), encoding="utf-8")
    return []


def client_document(document: dict[str, Any]) -> dict[str, Any]:
    """What the client covers: every route but /docs and its files (HTML, JS and CSS, for a
    browser, not for a program)."""
    paths = {p: ops for p, ops in document["paths"].items() if p != DOCS and not p.startswith(f"{DOCS}/")}
    return {**document, "paths": paths}


def generate_client(document: Path, out: Path) -> None:
    """openapi-python-client: `document` → a package in `out` (replaced), with our README."""
    bin_dir = Path(sys.executable).parent  # the generator and its ruff hooks live in this venv
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "client"
        source = Path(tmp) / "openapi.json"
        source.write_text(
            render(client_document(json.loads(document.read_text(encoding="utf-8")))), encoding="utf-8"
        )
        subprocess.run(  # noqa: S603 - our venv's generator, fixed arguments
            [
                str(bin_dir / "openapi-python-client"),
                "generate",
                "--path",
                str(source),
                "--output-path",
                str(staging),
                "--meta",
                "uv",
                "--config",
                str(GENERATOR_CONFIG),
                "--fail-on-warning",
            ],
            check=True,
            env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(staging / ".ruff_cache", ignore_errors=True)  # left by the formatting hooks
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(staging, out)
    shutil.copyfile(CLIENT_README, out / "README.md")


def main(argv: list[str] | None = None) -> int:
    """Run the command line (see the module docstring); its exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["document", "client"])
    parser.add_argument("--out", type=Path, default=CLIENT, help="where the client goes (client only)")
    args = parser.parse_args(argv)
    if args.what == "document":
        problems = write_document()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    generate_client(DOCUMENT, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
