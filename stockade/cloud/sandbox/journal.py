"""The sandbox's durable journal: one JSON line per successful mutating request.

The sandbox keeps moto's state in memory only; the journal is what makes it survive a restart.
Line one is a header naming the sandbox instance (a random ``instance_id``) and its seed; every
other line is one request, written and fsync'ed before its response leaves the server, so a
client never sees a change the journal could lose. A torn last line (the process died while
writing it) is dropped on open; damage anywhere else is an error.

Who calls it: ``cloud.sandbox.server`` (append, replay) and ``cloud.sandbox.process``
(``read_header`` for ``journal_instance_id``, and the paths for ``wipe``). No moto import here,
so reading the header stays cheap.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockade.domain.errors import SandboxError

JOURNAL_NAME = "journal.jsonl"
LOCK_NAME = "journal.lock"
FORMAT_VERSION = 1


def journal_path(state_dir: Path) -> Path:
    return state_dir / JOURNAL_NAME


def lock_path(state_dir: Path) -> Path:
    return state_dir / LOCK_NAME


@dataclass(frozen=True)
class JournalHeader:
    instance_id: str
    seed: int
    created: float

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "header",
            "version": FORMAT_VERSION,
            "instance_id": self.instance_id,
            "seed": self.seed,
            "created": self.created,
        }


@dataclass(frozen=True)
class JournalEntry:
    """One request as the server received it: enough to send it through moto again."""

    seq: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JournalEntry:
        return cls(
            seq=int(data["seq"]),
            time=float(data["time"]),
            method=str(data["method"]),
            path=str(data["path"]),
            query=str(data["query"]),
            headers={str(k): str(v) for k, v in data["headers"].items()},
            body=base64.b64decode(data["body"]),
        )


def _parse_header(line: bytes, path: Path) -> JournalHeader:
    try:
        data = json.loads(line)
        if data.get("type") != "header":
            raise ValueError("first line is not a header")
        return JournalHeader(str(data["instance_id"]), int(data["seed"]), float(data["created"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise SandboxError(
            f"sandbox journal {path} has a damaged header: {exc}",
            hint="wipe the sandbox state (and Stockade's database) to start fresh",
        ) from exc


def read_header(path: Path) -> JournalHeader | None:
    """The header of the journal at ``path``; None if there is no journal (or it is empty)."""
    try:
        with path.open("rb") as fh:
            line = fh.readline()
    except FileNotFoundError:
        return None
    if not line.endswith(b"\n"):
        return None  # never completely written: as good as absent
    return _parse_header(line, path)


class Journal:
    """An open journal: the header, the entries already on disk, and an fsync'ing appender.

    Not thread-safe; the server calls it under its request lock.
    """

    def __init__(self, path: Path, *, seed: int) -> None:
        self.path = path
        existing = read_header(path)
        if existing is None:
            self.header = JournalHeader(str(uuid.uuid4()), seed, time.time())
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(_line(self.header.to_json()))
            _fsync_path(tmp)
            os.replace(tmp, path)
            _fsync_dir(path.parent)
            self._entries: list[JournalEntry] = []
        else:
            self.header = existing
            self._entries = self._load()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def _load(self) -> list[JournalEntry]:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        # the text after the last newline is a torn write (or empty): drop it
        good_length = len(data) - len(lines[-1])
        entries: list[JournalEntry] = []
        for number, raw in enumerate(lines[1:-1], start=2):
            try:
                entry = JournalEntry.from_json(json.loads(raw))
            except (ValueError, KeyError, TypeError) as exc:
                raise SandboxError(
                    f"sandbox journal {self.path} is damaged at line {number}: {exc}",
                    hint="wipe the sandbox state (and Stockade's database) to start fresh",
                ) from exc
            entries.append(entry)
        if good_length != len(data):
            with self.path.open("r+b") as fh:
                fh.truncate(good_length)
                fh.flush()
                os.fsync(fh.fileno())
        return entries

    def entries(self) -> Iterator[JournalEntry]:
        """The entries found on disk when the journal was opened, in order."""
        yield from self._entries

    @property
    def loaded_count(self) -> int:
        return len(self._entries)

    def append(self, entry: JournalEntry) -> None:
        """Write one entry and make it durable before returning."""
        payload = _line(entry.to_json())
        written = 0
        while written < len(payload):
            written += os.write(self._fd, payload[written:])
        _sync_data(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n"


#: fdatasync where there is one: it writes an appended file's data and its new size, which is
#: all a journal line needs, and skips the timestamps fsync would also write
_sync_data = getattr(os, "fdatasync", os.fsync)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # some platforms cannot fsync a directory; the file itself is synced either way
    with contextlib.suppress(OSError):
        _fsync_path(path)
