"""Tests of migration 0002 (fleet deployments): it applies on top of 0001 with data in place,
downgrades cleanly, and leaves the schema exactly as the models describe it."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from stockade.domain.release import NO_OVERRIDES
from stockade.store import AuditLog, Database, OverridesRepository, TenantRepository
from stockade.store.db import MIGRATIONS_DIR
from stockade.store.models import Base

NEW_TABLES = {
    "releases",
    "stack_deployments",
    "stack_observations",
    "observed_stacks",
    "rollouts",
    "rollout_tenants",
}


def _alembic(db: Database, action: str, revision: str) -> None:
    with db.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_0002_applies_on_top_of_0001_with_tenants_in_place(db_url: str) -> None:
    db = Database(db_url)
    try:
        _alembic(db, "upgrade", "0001")
        assert db.current_revision() == "0001"
        now = datetime.now(UTC).replace(tzinfo=None)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tenants (tenant_id, name, tier, state, labels, account_email, "
                    "attempt, warnings, created_at, updated_at) VALUES ('old', 'Old', 'free', "
                    "'active', '{}', 'old@example.com', 1, '[]', :now, :now)"
                ),
                {"now": now},
            )
        db.migrate()
        assert db.current_revision() == db.head_revision()
        assert set(inspect(db.engine).get_table_names()) >= NEW_TABLES
        audit = AuditLog(db)
        assert OverridesRepository(db, audit).get_overrides("old") is NO_OVERRIDES
        assert TenantRepository(db, audit).get("old").tier == "free"
        _alembic(db, "downgrade", "0001")
        assert db.current_revision() == "0001"
        assert not NEW_TABLES & set(inspect(db.engine).get_table_names())
        assert "overrides" not in {c["name"] for c in inspect(db.engine).get_columns("tenants")}
        db.migrate()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.migrate()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        assert diffs == []
    finally:
        db.dispose()
