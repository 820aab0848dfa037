"""A small key/value table for the store's own bookkeeping (format versions, sandbox identity).

Who calls it: the server and sandbox at start-up (e.g. which sandbox this database belongs to)
and ``AuditLog`` (the chain head under ``audit.head``; do not write that key yourself).
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from stockade.domain.errors import ValidationError
from stockade.store.db import Database
from stockade.store.models import MetaRow

MAX_KEY = 100


class MetaStore:
    """``get``/``set`` of string values by string key."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        with self._db.session(write=False) as session:
            row = session.get(MetaRow, key)
            return None if row is None else row.value

    def set(self, key: str, value: str) -> None:
        """Insert or replace ``key``'s value."""
        if not key or len(key) > MAX_KEY:
            raise ValidationError(f"meta key must be 1..{MAX_KEY} characters, got {key!r}")
        dialect = postgresql if self._db.backend == "postgresql" else sqlite
        upsert = dialect.insert(MetaRow).values(key=key, value=value)
        upsert = upsert.on_conflict_do_update(
            index_elements=[MetaRow.key], set_={"value": upsert.excluded.value}
        )
        with self._db.session() as session:
            session.execute(upsert)
