"""The store's tables as SQLAlchemy 2 typed ORM classes.

Who calls it: the repositories in this package (``tenants``, ``audit``, ``tokens``, ``meta``,
``releases``, ``overrides``, ``deployments``, ``rollouts``, ``access_requests``) and
``migrations/env.py`` (autogenerate compares against ``Base.metadata``). Rows never leave the
store: repositories convert them to domain values. Migrations do not import this module; they
describe the schema as it was at their revision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and made aware again on the way out. Naive datetimes are refused on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC timestamps")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantRow(Base):
    __tablename__ = "tenants"

    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    tier: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    account_id: Mapped[str | None] = mapped_column(String(12), unique=True)
    account_email: Mapped[str] = mapped_column(String(254), unique=True)
    #: set just before the first CreateAccount call, so a re-run step knows to look up first
    create_intent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    create_request_id: Mapped[str | None] = mapped_column(String(128))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    failed_step: Mapped[str | None] = mapped_column(String(100))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``domain.release.TenantOverrides`` as JSON (``{}``: none); see ``store.overrides``
    overrides: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )

    __table_args__ = (
        Index("ix_tenants_state", "state"),
        Index("ix_tenants_tier", "tier"),
        Index("ix_tenants_created_at", "created_at", "tenant_id"),
    )


class AuditEventRow(Base):
    """One link of the audit hash chain. ``seq`` is assigned by ``AuditLog`` under its lock
    (head + 1), never by a database sequence, so a gap always means a deleted event."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_subject", "subject"),
        Index("ix_audit_events_action", "action"),
        Index("ix_audit_events_hash", "hash"),
        Index("ix_audit_events_prev_hash", "prev_hash"),
    )


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    #: sha256 hex of the plaintext token; the plaintext is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the sorted tenant ids the token is limited to; NULL: every tenant (migration 0004)
    tenants: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))


class MetaRow(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- fleet deployments (migration 0002) ------------------------------------------------------


class ReleaseRow(Base):
    """One immutable release: ``content`` is ``Release.content_json()``, hashed into the id."""

    __tablename__ = "releases"

    release_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    #: small, for listing without parsing ``content``: service versions, baseline, tiers
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    #: when the release was last made the current one (``latest()`` is the newest)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_releases_applied_at", "applied_at"),)


class StackDeploymentRow(Base):
    """What Stockade last deployed for one (tenant, stack): ``domain.stacks.RecordedStack``."""

    __tablename__ = "stack_deployments"

    tenant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tenants.tenant_id", ondelete="CASCADE"), primary_key=True
    )
    stack_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(64))
    stack_id: Mapped[str | None] = mapped_column(String(400))
    version: Mapped[str | None] = mapped_column(String(128))
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    params_sha256: Mapped[str | None] = mapped_column(String(64))
    release_id: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StackObservationRow(Base):
    """When a tenant's stacks were last read from its account (a full snapshot)."""

    __tablename__ = "stack_observations"

    tenant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tenants.tenant_id", ondelete="CASCADE"), primary_key=True
    )
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ObservedStackRow(Base):
    """One stack as last read from a tenant account: ``domain.stacks.DeployedStack``."""

    __tablename__ = "observed_stacks"

    tenant_id: Mapped[str] = mapped_column(
        String(40),
        ForeignKey("stack_observations.tenant_id", ondelete="CASCADE"),
        primary_key=True,
    )
    stack_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(64))
    tenant: Mapped[str | None] = mapped_column(String(256))
    service: Mapped[str | None] = mapped_column(String(256))
    version: Mapped[str | None] = mapped_column(String(256))
    template_sha256: Mapped[str | None] = mapped_column(String(256))
    params_sha256: Mapped[str | None] = mapped_column(String(256))
    release_id: Mapped[str | None] = mapped_column(String(256))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RolloutRow(Base):
    """One rollout of a release in waves; ``store.rollouts`` keeps its state machine."""

    __tablename__ = "rollouts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    release_id: Mapped[str] = mapped_column(String(64), ForeignKey("releases.release_id"))
    previous_release_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("releases.release_id")
    )
    #: the rollout this one rolls back, if it is a rollback
    rollback_of: Mapped[str | None] = mapped_column(String(32), ForeignKey("rollouts.id"))
    state: Mapped[str] = mapped_column(String(16))
    #: [{name, spec_index, max_concurrency, failure_tolerance, size}], in rollout order
    waves: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    halt_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: how many times the rollout went to ``running`` (its start, then each resume)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    #: stack operations the rollout may have in flight at once, over all its waves
    max_in_flight: Mapped[int] = mapped_column(Integer, default=200)
    #: the first tenants of each wave start spread over this many seconds
    jitter_seconds: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_rollouts_state", "state"),)


class RolloutTenantRow(Base):
    """One tenant's progress in one rollout."""

    __tablename__ = "rollout_tenants"

    rollout_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("rollouts.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: the wave's position in the rollout (0, 1, ...), not in the spec
    wave: Mapped[int] = mapped_column(Integer)
    #: the tenant's order within its wave
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    operations: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_rollout_tenants_progress", "rollout_id", "wave", "status", "position"),
    )


# --- templates (migration 0003) ----------------------------------------------------------------


class TemplateRow(Base):
    """One CloudFormation template body, stored once by its sha256 (immutable)."""

    __tablename__ = "templates"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    #: the parameters the template declares (sorted)
    parameters: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: logical id → resource type
    resources: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- break-glass access requests (migration 0005) ----------------------------------------------


class AccessRequestRow(Base):
    """One break-glass request; ``store.access_requests`` moves it through
    ``domain.access.AccessRequest``'s state machine."""

    __tablename__ = "access_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    #: the access level asked for (``breakglass``)
    level: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: pending: the approval deadline; approved: the end of the window to use it
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_access_requests_state", "state", "expires_at"),
        Index("ix_access_requests_tenant_id", "tenant_id"),
        Index("ix_access_requests_created_at", "created_at"),
    )
