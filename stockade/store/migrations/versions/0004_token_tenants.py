"""Tenant-scoped API tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12

- ``api_tokens.tenants``: the tenant ids a token is limited to, as a sorted JSON list; SQL NULL
  (every existing token) means the token is not scoped.

Downgrading drops the column, which would silently widen every scoped token to the whole
fleet: the downgrade revokes the live scoped tokens first.

Who runs it: ``Database.migrate`` (Alembic ``upgrade head``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("tenants", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    tokens = sa.table(
        "api_tokens",
        sa.column("tenants", sa.JSON(none_as_null=True)),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_context().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # the store keeps naive UTC on SQLite
    op.execute(
        tokens.update()
        .where(tokens.c.tenants.is_not(None), tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("tenants")
