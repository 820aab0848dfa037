"""A real, migrated SQLite store for the API and CLI tests (tokens and the audit trail).

Migrating takes ~0.1 s, so the schema is migrated once per test session into a template file
and each test gets its own copy (a millisecond). The ``*_event`` helpers tamper with the audit
trail directly in the database, for the tests of ``audit verify``.

Who uses it: ``tests/api/conftest.py``, ``tests/cli/conftest.py``, and tests that build their
own app (``test_ops``, ``test_access_matrix``) or tamper with the trail.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update

from stockade.store import AuditLog, Database, TokenStore
from stockade.store.models import AuditEventRow


@functools.cache
def _template() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="stockade-api-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "template.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()  # the last connection closing folds the WAL into the file
    return path


@dataclass(frozen=True)
class StoreParts:
    db: Database
    audit: AuditLog
    tokens: TokenStore


def store_parts(directory: Path) -> StoreParts:
    """A fresh migrated database in ``directory``, with its audit log and token store.
    Call ``.db.dispose()`` when done."""
    path = directory / "stockade.db"
    shutil.copyfile(_template(), path)
    db = Database(f"sqlite:///{path}")
    audit = AuditLog(db)
    return StoreParts(db=db, audit=audit, tokens=TokenStore(db, audit))


@pytest.fixture(name="store")
def store_fixture(tmp_path: Path) -> Iterator[StoreParts]:
    """A fresh migrated store per test (its own copy of the template database)."""
    parts = store_parts(tmp_path)
    try:
        yield parts
    finally:
        parts.db.dispose()


# --- tampering with the audit trail behind the store's back (as an attacker with SQL would) ---


def edit_event(db: Database, seq: int, details: dict[str, Any]) -> None:
    """Rewrite an event's details, leaving its hash as it was."""
    with db.session() as session:
        session.execute(
            update(AuditEventRow).where(AuditEventRow.seq == seq).values(details=details)
        )


def delete_event(db: Database, seq: int) -> None:
    with db.session() as session:
        session.execute(delete(AuditEventRow).where(AuditEventRow.seq == seq))


def swap_events(db: Database, a: int, b: int) -> None:
    """Exchange the places (seq) of two intact events."""
    with db.session() as session:
        for old, new in ((a, -1), (b, a), (-1, b)):
            session.execute(update(AuditEventRow).where(AuditEventRow.seq == old).values(seq=new))
