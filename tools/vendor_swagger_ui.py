"""`make swagger-ui`: vendor Swagger UI's browser files from the npm package swagger-ui-dist.

The version and the registry's sha512 integrity of its tarball are pinned below; the
tarball is fetched with the ordinary npm client (`npm pack`), checked against the pin,
and only the files /docs serves (plus the licences) are copied to
chalicelib/vendor/swagger-ui/ with a SHA256SUMS manifest that a test re-checks. The
copies are committed, so building, testing and deploying need neither npm nor a network.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "5.35.0"
INTEGRITY = "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="
FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt")
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "chalicelib" / "vendor" / "swagger-ui"
MANIFEST = "SHA256SUMS"


def integrity(data: bytes) -> str:
    """The Subresource-Integrity string npm records for a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def manifest_text(files: dict[str, bytes]) -> str:
    """`sha256  name` lines, sorted, with the package and version as a header."""
    lines = [f"# swagger-ui-dist {VERSION} ({INTEGRITY})"]
    lines += [f"{hashlib.sha256(data).hexdigest()}  {name}" for name, data in sorted(files.items())]
    return "\n".join(lines) + "\n"


def extract(tarball: bytes) -> dict[str, bytes]:
    """The vendored files out of the npm tarball (everything sits under package/)."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for name in FILES:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{name} missing from swagger-ui-dist {VERSION}")
            out[name] = member.read()
    return out


def fetch(workdir: Path) -> bytes:
    """`npm pack swagger-ui-dist@VERSION`, checked against the pinned integrity."""
    subprocess.run(  # noqa: S603 - fixed arguments
        ["npm", "pack", f"swagger-ui-dist@{VERSION}", "--silent"],  # noqa: S607 - npm from PATH
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    data = (workdir / f"swagger-ui-dist-{VERSION}.tgz").read_bytes()
    if integrity(data) != INTEGRITY:
        raise SystemExit(f"swagger-ui-dist {VERSION}: tarball does not match the pinned integrity")
    return data


def main(argv: list[str] | None = None) -> int:
    """Vendor the pinned swagger-ui-dist (or check it); the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tarball", type=Path, help="use this swagger-ui-dist tarball instead of npm pack")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.tarball.read_bytes() if args.tarball else fetch(Path(tmp))
    if integrity(data) != INTEGRITY:
        raise SystemExit("tarball does not match the pinned integrity")
    files = extract(data)
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (TARGET / name).write_bytes(content)
    (TARGET / MANIFEST).write_text(manifest_text(files), encoding="utf-8")
    print(f"swagger-ui-dist {VERSION}: {sum(map(len, files.values()))} bytes in {TARGET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
