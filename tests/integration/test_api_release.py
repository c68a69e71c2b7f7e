"""The released document (docs/openapi.json), CHANGELOG.md and the generated client
(clients/python/) agree with what the app serves."""

from __future__ import annotations

import filecmp
import json
import re
from pathlib import Path

import pytest

from chalicelib import __version__
from tools import openapi_release
from tools.openapi_diff import changelog_section, release_problems, version_key

ROOT = Path(__file__).resolve().parents[2]


def test_the_current_document_may_replace_the_released_one() -> None:
    # Fails on any breaking change not bumped and recorded in CHANGELOG.md (tools/openapi_diff.py)
    released = json.loads(openapi_release.DOCUMENT.read_text(encoding="utf-8"))
    changelog = openapi_release.CHANGELOG.read_text(encoding="utf-8")
    assert release_problems(released, openapi_release.current_document(), changelog) == []


def test_the_released_document_is_stored_pretty_and_sorted() -> None:
    text = openapi_release.DOCUMENT.read_text(encoding="utf-8")
    assert text == openapi_release.render(json.loads(text))


def test_the_changelog_leads_with_the_current_version() -> None:
    changelog = openapi_release.CHANGELOG.read_text(encoding="utf-8")
    versions = re.findall(r"^##\s+\[?(\d+(?:\.\d+)*)\]?", changelog, re.MULTILINE)
    assert versions[0] == __version__
    assert changelog_section(changelog, __version__) is not None
    released = json.loads(openapi_release.DOCUMENT.read_text(encoding="utf-8"))["info"]["version"]
    assert version_key(released) <= version_key(__version__)


def test_make_openapi_refuses_to_release_a_removed_field(tmp_path: Path) -> None:
    # Given a released document whose products had a field the app no longer returns
    released = openapi_release.current_document()
    released["components"]["schemas"]["ProductPublic"]["properties"]["colour"] = {"type": "string"}
    target = tmp_path / "openapi.json"
    target.write_text(openapi_release.render(released), encoding="utf-8")
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(f"## {__version__}\n", encoding="utf-8")
    # When `make openapi` runs
    problems = openapi_release.write_document(target, changelog)
    # Then it names the break, asks for a bump, and leaves the released document alone
    assert any("response property 'colour' removed" in problem for problem in problems)
    assert problems[-1].startswith("bump the version")
    assert json.loads(target.read_text(encoding="utf-8")) == released


@pytest.mark.slow
def test_the_committed_client_is_generated_from_the_current_document(tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(openapi_release.render(openapi_release.current_document()), encoding="utf-8")
    fresh = tmp_path / "client"
    openapi_release.generate_client(document, fresh)
    differences = _differences(
        filecmp.dircmp(fresh, openapi_release.CLIENT, ignore=["__pycache__", ".ruff_cache"])
    )
    assert differences == [], "clients/python is stale: run `make client`"


def _differences(cmp: filecmp.dircmp[str]) -> list[str]:
    found = [f"{cmp.right}/{name}" for name in cmp.left_only + cmp.right_only + cmp.diff_files]
    for sub in cmp.subdirs.values():
        found += _differences(sub)
    return found


def test_the_client_covers_every_route_but_the_browser_documentation() -> None:
    document = openapi_release.current_document()
    covered = set(openapi_release.client_document(document)["paths"])
    assert set(document["paths"]) - covered == {"/docs"}  # its files are not in the document at all
    assert {"/openapi.json", "/health", "/products/{product_id}"} <= covered
