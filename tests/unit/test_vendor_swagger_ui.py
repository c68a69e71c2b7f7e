"""`make swagger-ui` vendors only a tarball whose sha512 is the pinned one."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tools import vendor_swagger_ui


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_integrity_is_npm_s_sri_string() -> None:
    # sha512 of the empty string, base64: the value npm would record
    assert vendor_swagger_ui.integrity(b"").startswith("sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0")


def test_a_tarball_that_is_not_the_pinned_one_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # Given a tarball with the right file names but other bytes
    forged = tmp_path / "swagger-ui-dist.tgz"
    forged.write_bytes(_tarball(dict.fromkeys(vendor_swagger_ui.FILES, b"alert(1)")))
    before = {p.name: p.read_bytes() for p in vendor_swagger_ui.TARGET.iterdir()}
    # When it is offered for vendoring, Then it is refused and the vendored files are untouched
    with pytest.raises(SystemExit, match="integrity"):
        vendor_swagger_ui.main(["--tarball", str(forged)])
    assert {p.name: p.read_bytes() for p in vendor_swagger_ui.TARGET.iterdir()} == before


def test_extract_takes_exactly_the_served_files_and_licences() -> None:
    files = dict.fromkeys([*vendor_swagger_ui.FILES, "swagger-ui.js.map", "index.html"], b"x")
    assert set(vendor_swagger_ui.extract(_tarball(files))) == set(vendor_swagger_ui.FILES)
