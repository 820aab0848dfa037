"""Fleet deployments: releases, tenant overrides, recorded and observed stacks, rollouts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

- ``tenants.overrides``: the tenant's ``TenantOverrides`` as JSON (``{}`` for none);
- ``releases``: immutable, content-hashed releases (``content`` is the canonical JSON);
- ``stack_deployments``: what Stockade last deployed per (tenant, stack);
- ``stack_observations`` / ``observed_stacks``: what was last read from each tenant account;
- ``rollouts`` / ``rollout_tenants``: rollouts in waves and each tenant's progress.

Who runs it: ``Database.migrate`` (Alembic ``upgrade head``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _tenant_fk(table: str, referred: str = "tenants") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        [f"{referred}.tenant_id"],
        name=op.f(f"fk_{table}_tenant_id_{referred}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column("overrides", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )

    op.create_table(
        "releases",
        sa.Column("release_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("applied_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("release_id", name=op.f("pk_releases")),
    )
    op.create_index("ix_releases_applied_at", "releases", ["applied_at"])

    op.create_table(
        "stack_deployments",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("stack_name", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("stack_id", sa.String(length=400), nullable=True),
        sa.Column("version", sa.String(length=128), nullable=True),
        sa.Column("template_sha256", sa.String(length=64), nullable=True),
        sa.Column("params_sha256", sa.String(length=64), nullable=True),
        sa.Column("release_id", sa.String(length=64), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        _tenant_fk("stack_deployments"),
        sa.PrimaryKeyConstraint("tenant_id", "stack_name", name=op.f("pk_stack_deployments")),
    )

    op.create_table(
        "stack_observations",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("observed_at", _ts(), nullable=False),
        _tenant_fk("stack_observations"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_stack_observations")),
    )

    op.create_table(
        "observed_stacks",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("stack_name", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=256), nullable=True),
        sa.Column("service", sa.String(length=256), nullable=True),
        sa.Column("version", sa.String(length=256), nullable=True),
        sa.Column("template_sha256", sa.String(length=256), nullable=True),
        sa.Column("params_sha256", sa.String(length=256), nullable=True),
        sa.Column("release_id", sa.String(length=256), nullable=True),
        sa.Column("observed_at", _ts(), nullable=False),
        _tenant_fk("observed_stacks", "stack_observations"),
        sa.PrimaryKeyConstraint("tenant_id", "stack_name", name=op.f("pk_observed_stacks")),
    )

    op.create_table(
        "rollouts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("release_id", sa.String(length=64), nullable=False),
        sa.Column("previous_release_id", sa.String(length=64), nullable=True),
        sa.Column("rollback_of", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("waves", sa.JSON(), nullable=False),
        sa.Column("halt_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.release_id"],
            name=op.f("fk_rollouts_release_id_releases"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_release_id"],
            ["releases.release_id"],
            name=op.f("fk_rollouts_previous_release_id_releases"),
        ),
        sa.ForeignKeyConstraint(
            ["rollback_of"], ["rollouts.id"], name=op.f("fk_rollouts_rollback_of_rollouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
    )
    op.create_index("ix_rollouts_state", "rollouts", ["state"])

    op.create_table(
        "rollout_tenants",
        sa.Column("rollout_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("operations", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", _ts(), nullable=True),
        sa.Column("finished_at", _ts(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_tenants_rollout_id_rollouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rollout_id", "tenant_id", name=op.f("pk_rollout_tenants")),
    )
    op.create_index(
        "ix_rollout_tenants_progress",
        "rollout_tenants",
        ["rollout_id", "wave", "status", "position"],
    )


def downgrade() -> None:
    op.drop_table("rollout_tenants")
    op.drop_table("rollouts")
    op.drop_table("observed_stacks")
    op.drop_table("stack_observations")
    op.drop_table("stack_deployments")
    op.drop_table("releases")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("overrides")
