"""Slimming the deployment zip: what the Lambda runtime provides goes, the rest stays."""

from __future__ import annotations

import importlib.util
import marshal
import sys
import zipfile
from pathlib import Path

from infra import slim


def _wheel_files(name: str, version: str, files: list[str]) -> dict[str, str]:
    dist_info = f"{name}-{version}.dist-info"
    record = "\n".join([*(f"{f},sha256=x,1" for f in files), f"{dist_info}/RECORD,,"])
    return {**dict.fromkeys(files, "x" * 100), f"{dist_info}/METADATA": "m", f"{dist_info}/RECORD": record}


def _zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def _names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def test_runtime_provided_distributions_are_removed_with_their_dist_info(tmp_path: Path) -> None:
    # Given a package with botocore and python-dateutil riding along, and our own code
    entries = {
        "app.py": "app",
        "chalicelib/__init__.py": "",
        **_wheel_files("botocore", "1.44.5", ["botocore/__init__.py", "botocore/data/x.json"]),
        **_wheel_files("python_dateutil", "2.9.0.post0", ["dateutil/__init__.py"]),
        **_wheel_files("aws_xray_sdk", "2.15.0", ["aws_xray_sdk/__init__.py"]),
    }
    package = _zip(tmp_path / "deployment.zip", entries)
    # When it is slimmed
    report = slim.strip_runtime_provided(package, keep=set())
    # Then botocore and dateutil are gone, everything else is intact
    assert report.removed == ("botocore", "python_dateutil")
    assert _names(package) == {
        "app.py",
        "chalicelib/__init__.py",
        "aws_xray_sdk/__init__.py",
        "aws_xray_sdk-2.15.0.dist-info/METADATA",
        "aws_xray_sdk-2.15.0.dist-info/RECORD",
    }
    assert report.bytes_after < report.bytes_before


def test_a_distribution_pinned_in_requirements_is_kept(tmp_path: Path) -> None:
    package = _zip(tmp_path / "d.zip", _wheel_files("urllib3", "2.5.0", ["urllib3/__init__.py"]))
    report = slim.strip_runtime_provided(package, keep={"urllib3"})
    assert report.removed == ()
    assert "urllib3/__init__.py" in _names(package)


def test_requirement_names_are_read_normalised_and_comments_ignored(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# boto3 is not listed\nPyJWT==2.15.1\naws-xray-sdk==2.15.0\n-r other.txt\n")
    assert slim.pinned_names(requirements) == {"pyjwt", "aws_xray_sdk"}


def test_largest_entries_come_first(tmp_path: Path) -> None:
    package = _zip(tmp_path / "d.zip", {"big/a.bin": "ab" * 5000, "small.py": "x"})
    assert [name for name, _ in slim.largest_top_level(package)] == ["big", "small.py"]


def test_precompiled_bytecode_is_added_and_never_checks_source_timestamps(tmp_path: Path) -> None:
    # Given a zip with one module and no bytecode (what chalice produces)
    package = _zip(tmp_path / "d.zip", {"pkg/__init__.py": "", "pkg/mod.py": "VALUE = 42\n"})
    # When it is precompiled
    added = slim.precompile(package)
    # Then each module has an unchecked hash-based pyc (PEP 552 flags == 0b01)...
    pyc = f"pkg/__pycache__/mod.{sys.implementation.cache_tag}.pyc"
    with zipfile.ZipFile(package) as archive:
        data = archive.read(pyc)
        assert archive.read("pkg/mod.py") == b"VALUE = 42\n"
    assert added > 0
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01
    # ...whose tracebacks name the file where Lambda unpacks it
    code = marshal.loads(data[16:])  # noqa: S302 - bytes this test just produced
    assert code.co_filename == "/var/task/pkg/mod.py"
