"""The engine's durable state on disk: an fsynced journal of accepted writes and a snapshot.

Files in the data directory:

- ``journal.jsonl``: one line per accepted (2xx) mutating request, ``{"seq", "ts", "r", "t", "b"}``
  (sequence number, wall-clock time, region, ``X-Amz-Target`` operation, raw JSON body). A line is
  written with one ``write`` and made durable (``fdatasync``) before the engine answers the
  request, so every answer a client saw is on disk.
- ``snapshot.jsonl``: the whole state as requests that rebuild it (CreateTable, UpdateTimeToLive,
  TagResource, BatchWriteItem): a header line ``{"v": 1, "seq": S, "tokens": [...]}`` and then one
  request per line. Written to a temporary file, fsynced and renamed over the old one, so a reader
  sees the old snapshot or the new one, never half of one.

Start = snapshot, then every journal line with ``seq > S`` (a crash between the snapshot's rename
and the journal's truncation replays nothing twice). A torn last line (the process died inside its
``write``) was never acknowledged: it is ignored and cut off. A damaged line *before* the last one
is not a torn write; the engine refuses to start rather than silently drop what follows.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SNAPSHOT_VERSION = 1


class JournalCorrupt(Exception):
    """A complete journal or snapshot line that cannot be read: refuse to guess."""


@dataclass(frozen=True)
class Record:
    """One request that changed the state: where, what, and its raw body."""

    region: str
    target: str
    body: str
    seq: int = 0
    ts: float = 0.0

    def line(self) -> bytes:
        """The record as one journal line."""
        data = {"seq": self.seq, "ts": self.ts, "r": self.region, "t": self.target, "b": self.body}
        return (json.dumps(data, separators=(",", ":")) + "\n").encode("utf-8")

    @classmethod
    def parse(cls, raw: bytes) -> Record:
        """A journal line back into its record."""
        data = json.loads(raw)
        return cls(data["r"], data["t"], data["b"], int(data.get("seq", 0)), float(data.get("ts", 0)))


@dataclass
class Stored:
    """What the data directory held at start."""

    records: list[Record] = field(default_factory=list)  # snapshot requests, then newer journal lines
    seq: int = 0  # the last sequence number in use
    tokens: list[dict[str, Any]] = field(default_factory=list)  # the snapshot's idempotency tokens
    journal_lines: int = 0  # journal lines replayed (0: nothing to compact)
    torn: bool = False  # a torn last line was cut off


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_datasync = getattr(os, "fdatasync", os.fsync)


class DataDir:
    """The journal and snapshot of one engine; every method runs under the engine's lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal = path / "journal.jsonl"
        self.snapshot = path / "snapshot.jsonl"
        path.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = None

    def read(self) -> Stored:
        """The snapshot and the journal lines newer than it; cuts a torn last journal line."""
        stored = Stored()
        if self.snapshot.exists():
            lines = self.snapshot.read_bytes().split(b"\n")
            if lines[-1]:
                raise JournalCorrupt(f"{self.snapshot}: no final newline (it is written whole)")
            try:
                header = json.loads(lines[0])
                stored.records = [Record.parse(line) for line in lines[1:-1]]
            except (ValueError, KeyError) as exc:
                raise JournalCorrupt(f"{self.snapshot}: unreadable ({exc})") from exc
            stored.seq = int(header["seq"])
            stored.tokens = list(header.get("tokens", []))
        if self.journal.exists():
            self._read_journal(stored)
        return stored

    def _read_journal(self, stored: Stored) -> None:
        data = self.journal.read_bytes()
        good = 0  # bytes of whole, readable lines
        for number, line in enumerate(data.split(b"\n")[:-1], start=1):
            try:
                record = Record.parse(line)
            except (ValueError, KeyError) as exc:
                raise JournalCorrupt(f"{self.journal}: line {number} unreadable ({exc})") from exc
            good += len(line) + 1
            if record.seq > stored.seq:
                stored.records.append(record)
                stored.journal_lines += 1
                stored.seq = record.seq
        if good < len(data):  # the last write never finished: it was never acknowledged
            stored.torn = True
            with self.journal.open("r+b") as handle:
                handle.truncate(good)
                handle.flush()
                os.fsync(handle.fileno())

    def append(self, record: Record) -> None:
        """Append one line and make it durable before returning."""
        if self._fd is None:
            self._fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        line = record.line()
        written = os.write(self._fd, line)
        while written < len(line):  # a short write to a regular file is rare but legal
            written += os.write(self._fd, line[written:])
        _datasync(self._fd)

    def write_snapshot(self, seq: int, tokens: list[dict[str, Any]], records: list[Record]) -> None:
        """Atomically replace the snapshot, then empty the journal."""
        tmp = self.snapshot.with_suffix(".tmp")
        header = {"v": SNAPSHOT_VERSION, "seq": seq, "tokens": tokens}
        with tmp.open("wb") as out:
            out.write((json.dumps(header, separators=(",", ":")) + "\n").encode("utf-8"))
            for record in records:
                out.write(record.line())
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o600)  # it holds password hashes
        tmp.replace(self.snapshot)
        _sync_dir(self.path)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with self.journal.open("wb") as handle:  # lines <= seq are in the snapshot now
            os.fsync(handle.fileno())
        self.journal.chmod(0o600)
