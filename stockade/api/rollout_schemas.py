"""The JSON of the rollout routes (apply, rollouts, their waves and tenants, and stream events).

Rollouts as ``stockade.store.rollout_types`` defines them are converted here, once; counts by
status always list every status (zeros included), so clients never have to guess a missing key.
The event payloads of ``GET /api/v1/rollouts/{id}/events`` are the models the REST documents
extend, so the stream and the documents spell the same things the same way.

Who calls it: ``stockade.api.rollout_routes`` and ``stockade.api.rollout_events``; the CLI reads
the same JSON as plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stockade.api.guardrail_schemas import ScpActionOut
from stockade.api.schemas import plan_summary
from stockade.engine.facade import ApplyOutcome
from stockade.store.rollout_types import (
    Rollout,
    RolloutState,
    RolloutTenant,
    RolloutWave,
    TenantStatus,
)

#: the longest halt reason the API accepts
MAX_REASON = 500


def status_counts(counts: Mapping[TenantStatus, int]) -> dict[TenantStatus, int]:
    """``counts`` with every status present, in the enum's order."""
    return {status: counts.get(status, 0) for status in TenantStatus}


class ApplyRequest(BaseModel):
    """Body of ``POST /api/v1/rollouts``."""

    model_config = ConfigDict(extra="forbid")

    refresh: bool = Field(
        default=False, description="read every account again before planning the rollout"
    )


class HaltRequest(BaseModel):
    """Body of ``POST /api/v1/rollouts/{rollout_id}/halt``."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REASON,
        description="why the rollout is halted (default: 'halted by <caller>')",
    )


# --- what the events of GET /api/v1/rollouts/{rollout_id}/events carry ------------------------
# The REST documents extend them, so both spell the same fields the same way.


class RolloutEvent(BaseModel):
    """``event: rollout``: the rollout's state or halt reason changed."""

    id: str
    state: RolloutState
    halt_reason: str | None
    counts: dict[TenantStatus, int]

    @classmethod
    def of(cls, rollout: Rollout) -> RolloutEvent:
        return RolloutEvent(
            id=rollout.id,
            state=rollout.state,
            halt_reason=rollout.halt_reason,
            counts=status_counts(rollout.counts),
        )


class WaveEvent(BaseModel):
    """``event: wave``: a wave's counts changed."""

    index: int = Field(description="position in the rollout (0, 1, ...)")
    name: str
    size: int
    counts: dict[TenantStatus, int]

    @classmethod
    def of(cls, wave: RolloutWave) -> WaveEvent:
        return WaveEvent(
            index=wave.index, name=wave.name, size=wave.size, counts=status_counts(wave.counts)
        )


class TenantEvent(BaseModel):
    """``event: tenant``: a tenant's status (or attempt) changed."""

    tenant_id: str
    wave: int
    status: TenantStatus
    error: str | None
    attempts: int

    @classmethod
    def of(cls, tenant: RolloutTenant) -> TenantEvent:
        return TenantEvent(
            tenant_id=tenant.tenant_id,
            wave=tenant.wave,
            status=tenant.status,
            error=tenant.error,
            attempts=tenant.attempts,
        )


# --- REST documents --------------------------------------------------------------------------


class RolloutWaveOut(WaveEvent):
    max_concurrency: int
    failure_tolerance: int | str

    @classmethod
    def of(cls, wave: RolloutWave) -> RolloutWaveOut:
        return cls(
            **dict(WaveEvent.of(wave)),
            max_concurrency=wave.max_concurrency,
            failure_tolerance=wave.failure_tolerance,
        )


class RolloutTenantOut(TenantEvent):
    operations: int = Field(description="stack operations started for the tenant")
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, tenant: RolloutTenant) -> RolloutTenantOut:
        return cls(
            **dict(TenantEvent.of(tenant)),
            operations=tenant.operations,
            started_at=tenant.started_at,
            finished_at=tenant.finished_at,
        )


class RolloutOut(RolloutEvent):
    """A rollout with its waves; ``tenants`` is null in lists, every tenant otherwise."""

    release_id: str
    previous_release_id: str | None = Field(description="what a rollback redeploys")
    rollback_of: str | None = Field(description="the rollout this one rolls back")
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    size: int = Field(description="tenants in the rollout")
    current_wave: int | None = Field(description="the first wave not done; null when all are")
    waves: list[RolloutWaveOut]
    tenants: list[RolloutTenantOut] | None

    @classmethod
    def of(cls, rollout: Rollout) -> RolloutOut:
        tenants = rollout.tenants
        return cls(
            **dict(RolloutEvent.of(rollout)),
            release_id=rollout.release_id,
            previous_release_id=rollout.previous_release_id,
            rollback_of=rollout.rollback_of,
            created_by=rollout.created_by,
            updated_by=rollout.updated_by,
            created_at=rollout.created_at,
            updated_at=rollout.updated_at,
            size=rollout.size,
            current_wave=rollout.current_wave,
            waves=[RolloutWaveOut.of(wave) for wave in rollout.waves],
            tenants=None if tenants is None else [RolloutTenantOut.of(t) for t in tenants],
        )


class RolloutList(BaseModel):
    """Rollouts, newest first, without their tenants; ``count`` is the number of items."""

    items: list[RolloutOut]
    count: int

    @classmethod
    def of(cls, rollouts: list[Rollout]) -> RolloutList:
        return cls(items=[RolloutOut.of(r) for r in rollouts], count=len(rollouts))


class ApplyOut(BaseModel):
    """What ``POST /api/v1/rollouts`` did: the release, the plan's counts, the rollout."""

    release_id: str
    new_release: bool = Field(description="false: the release had been applied before")
    summary: dict[str, int] = Field(description="the plan's counts, as POST /api/v1/plans")
    observed_now: int = Field(description="accounts read from AWS to make the plan")
    rollout: RolloutOut | None = Field(description="null when the plan changes no tenant")
    scp_actions: list[ScpActionOut] = Field(
        default_factory=list, description="the SCP changes apply made (guardrails)"
    )

    @classmethod
    def of(cls, outcome: ApplyOutcome) -> ApplyOut:
        rollout = outcome.rollout
        return cls(
            release_id=outcome.release_id,
            new_release=outcome.new_release,
            summary=plan_summary(outcome.plan),
            observed_now=outcome.observed_now,
            rollout=None if rollout is None else RolloutOut.of(rollout),
            scp_actions=ScpActionOut.all(outcome.scp_actions),
        )
