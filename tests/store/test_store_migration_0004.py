"""Tests of migration 0004 (tenant-scoped tokens): tokens issued before it reach every tenant,
and a downgrade revokes scoped tokens instead of widening them to the whole fleet."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from stockade.store import AuditLog, Database, TokenStore
from stockade.store.db import MIGRATIONS_DIR
from stockade.store.tokens import hash_token


def _alembic(db: Database, action: str, revision: str) -> None:
    with db.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _columns(db: Database) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("api_tokens")}


def test_0004_keeps_old_tokens_fleet_wide_and_downgrade_revokes_scoped_ones(db_url: str) -> None:
    db = Database(db_url)
    try:
        _alembic(db, "upgrade", "0003")
        old = "stk_old-token-from-before-0004"
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO api_tokens (id, name, role, token_hash, created_at) "
                    "VALUES ('tok_old', 'old', 'operator', :hash, :now)"
                ),
                {"hash": hash_token(old), "now": datetime.now(UTC).replace(tzinfo=None)},
            )
        db.migrate()
        tokens = TokenStore(db, AuditLog(db))
        info = tokens.authenticate(old)
        assert info is not None and info.tenants is None
        scoped, scoped_info = tokens.create("s", "viewer", actor="t", tenants=["acme"])
        assert tokens.authenticate(scoped) is not None

        _alembic(db, "downgrade", "0003")
        assert "tenants" not in _columns(db)
        with db.engine.connect() as connection:
            revoked = dict(connection.execute(text("SELECT id, revoked_at FROM api_tokens")).all())
        assert revoked["tok_old"] is None  # fleet-wide tokens stay as they were
        assert revoked[scoped_info.id] is not None  # scoped ones cannot be kept: revoked

        db.migrate()
        assert "tenants" in _columns(db)
        assert tokens.authenticate(old) is not None
        assert tokens.authenticate(scoped) is None
    finally:
        db.dispose()
