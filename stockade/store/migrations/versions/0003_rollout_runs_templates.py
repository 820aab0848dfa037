"""Rollout policy and runs; template bodies by sha256.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

- ``rollouts.runs``: how many times the rollout went to ``running`` (start, then resumes);
- ``rollouts.max_in_flight`` / ``rollouts.jitter_seconds``: the rollout policy it was made with;
- ``templates``: every CloudFormation template a release refers to, stored once by sha256, so a
  rollout (or a rollback to an older release) deploys exactly the text that was applied.

Who runs it: ``Database.migrate`` (Alembic ``upgrade head``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rollouts") as batch:
        batch.add_column(
            sa.Column("runs", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("max_in_flight", sa.Integer(), nullable=False, server_default=sa.text("200"))
        )
        batch.add_column(
            sa.Column("jitter_seconds", sa.Float(), nullable=False, server_default=sa.text("0"))
        )
    op.create_table(
        "templates",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_templates")),
    )


def downgrade() -> None:
    op.drop_table("templates")
    with op.batch_alter_table("rollouts") as batch:
        batch.drop_column("jitter_seconds")
        batch.drop_column("max_in_flight")
        batch.drop_column("runs")
