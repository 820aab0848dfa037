"""Break-glass access requests.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-09

- ``access_requests``: one row per break-glass request (``stockade access request``): the
  tenant, who asked and why, the session duration asked for, its state (``pending``,
  ``approved``, ``denied``, ``expired``, ``used``), when it expires, who decided and when, and
  when it was used. Credentials are never stored: only the request and its decision.

Downgrading drops the table (the audit trail keeps every request, decision and use).

Who runs it: ``Database.migrate`` (Alembic ``upgrade head``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    op.create_index("ix_access_requests_state", "access_requests", ["state", "expires_at"])
    op.create_index("ix_access_requests_tenant_id", "access_requests", ["tenant_id"])
    op.create_index("ix_access_requests_created_at", "access_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_access_requests_created_at", table_name="access_requests")
    op.drop_index("ix_access_requests_tenant_id", table_name="access_requests")
    op.drop_index("ix_access_requests_state", table_name="access_requests")
    op.drop_table("access_requests")
