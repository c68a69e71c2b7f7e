"""Keep the deployment zip small: drop what the Lambda Python runtime already provides,
and report what is left.

chalice bundles every transitive dependency. aws-xray-sdk depends on botocore, so botocore
(and its own dependencies) would ride along although the runtime ships boto3 and botocore;
a bundled botocore would also shadow the runtime's and pair it with the runtime's boto3
at a version boto3 was never tested with. A distribution named directly in
requirements.txt is kept: whoever pins it there wants that exact version shipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# What the AWS Lambda Python runtimes ship (boto3 and its dependency tree).
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "six", "urllib3"}
)
_DIST_INFO = re.compile(r"^(?P<name>[^/]+?)-[^-/]+\.dist-info/RECORD$")


@dataclass(frozen=True)
class SlimReport:
    """What slimming the package removed, and the size before and after."""

    removed: tuple[str, ...]
    bytes_before: int
    bytes_after: int


def normalise(name: str) -> str:
    """A distribution name as wheel file names spell it (PEP 427: runs of -_. → _)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def pinned_names(requirements: Path) -> set[str]:
    """Distributions named directly in a requirements file."""
    names = set()
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match and not line.lstrip().startswith(("#", "-")):
            names.add(normalise(match.group(1)))
    return names


def distribution_files(archive: zipfile.ZipFile) -> dict[str, set[str]]:
    """Distribution name → the files its RECORD lists (the dist-info itself included)."""
    files: dict[str, set[str]] = defaultdict(set)
    entries = archive.namelist()
    for entry in entries:
        match = _DIST_INFO.match(entry)
        if not match:
            continue
        name = normalise(match.group("name"))
        dist_info = entry.removesuffix("RECORD")
        files[name] |= {e for e in entries if e.startswith(dist_info)}
        record = archive.read(entry).decode("utf-8")
        files[name] |= {line.split(",")[0] for line in record.splitlines() if line.strip()}
    return files


def strip_runtime_provided(zip_path: Path, keep: set[str]) -> SlimReport:
    """Rewrite the zip without the runtime-provided distributions not in `keep`."""
    before = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as archive:
        owned = distribution_files(archive)
        drop_names = sorted((RUNTIME_PROVIDED & owned.keys()) - keep)
        drop = set().union(*(owned[n] for n in drop_names)) if drop_names else set()
        if not drop:
            return SlimReport((), before, before)
        tmp = zip_path.with_suffix(".slim.zip")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as slim:
            for info in archive.infolist():
                if info.filename not in drop:
                    slim.writestr(info, archive.read(info))
    tmp.replace(zip_path)
    return SlimReport(tuple(drop_names), before, zip_path.stat().st_size)


def largest_top_level(zip_path: Path, count: int = 8) -> list[tuple[str, int]]:
    """The biggest top-level entries of the zip by compressed size, biggest first."""
    sizes: dict[str, int] = defaultdict(int)
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0]
            sizes[top] += info.compress_size
    return sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:count]


def precompile(zip_path: Path, python: str | None = None, runtime_root: str = "/var/task") -> int:
    """Add bytecode for every module to the zip; returns the bytes it added.

    /var/task is read-only on Lambda, so without .pyc files every cold start compiles each
    imported module from source (measured: import time roughly halves with them). `python`
    must be the runtime's version (3.13 for python3.13: the packaging venv's interpreter),
    since a pyc's magic number and cache tag name one Python version and any other ignores
    it; "unchecked-hash" pycs never look at source timestamps, which a zip does not keep.
    """
    before = zip_path.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
            originals = {info.filename for info in archive.infolist()}
        command = [python or sys.executable, "-m", "compileall", "-q", "-q", "-d", runtime_root]
        command += ["--invalidation-mode", "unchecked-hash", str(root)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise RuntimeError(f"compileall failed:\n{result.stdout}{result.stderr}")
        added = sorted(p for p in root.rglob("*.pyc") if p.relative_to(root).as_posix() not in originals)
        with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
            for path in added:
                archive.write(path, path.relative_to(root).as_posix())
    return zip_path.stat().st_size - before


def bytecode_gaps(names: list[str], cache_tag: str) -> list[str]:
    """Modules in a zip listing without a pyc for `cache_tag` (e.g. cpython-313) beside them."""
    present = set(names)
    gaps = []
    for name in names:
        if name.endswith(".py"):
            folder, _, module = name.rpartition("/")
            pyc = f"{folder}/__pycache__/{module[:-3]}.{cache_tag}.pyc".lstrip("/")
            if pyc not in present:
                gaps.append(name)
    return gaps
