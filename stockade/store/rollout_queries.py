"""Prebuilt statements and row-to-value conversion for ``store.rollouts``.

Who calls it: ``store.rollouts`` only. The statements that run thousands of times per rollout
(``MARK``, ``ADD_OPERATIONS``) are built once here, with bound parameters named ``p_...``
(SQLAlchemy reserves the column names in UPDATE statements).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from stockade.domain.errors import ValidationError
from stockade.domain.waves import WavePlan
from stockade.store.models import RolloutRow, RolloutTenantRow, UTCDateTime
from stockade.store.rollout_types import (
    TENANT_TRANSITIONS,
    Rollout,
    RolloutState,
    RolloutTenant,
    RolloutWave,
    TenantStatus,
    zero_counts,
)

#: wave index → status → count
WaveCounts = dict[int, dict[TenantStatus, int]]

__all__ = [
    "ADD_OPERATIONS",
    "MARK",
    "TENANT",
    "TENANT_COLUMNS",
    "WaveCounts",
    "check_waves",
    "counts_by_wave",
    "to_rollout",
    "to_tenant",
    "wave_spec",
]

TENANT_COLUMNS = (
    RolloutTenantRow.tenant_id,
    RolloutTenantRow.wave,
    RolloutTenantRow.position,
    RolloutTenantRow.status,
    RolloutTenantRow.attempts,
    RolloutTenantRow.operations,
    RolloutTenantRow.error,
    RolloutTenantRow.started_at,
    RolloutTenantRow.finished_at,
)


STATUS_BY_VALUE = {status.value: status for status in TenantStatus}


def to_tenant(row: Any) -> RolloutTenant:
    """A ``RolloutTenant`` from a ``RolloutTenantRow`` or a row of ``TENANT_COLUMNS``."""
    return RolloutTenant(
        row.tenant_id,
        row.wave,
        row.position,
        STATUS_BY_VALUE[row.status],
        row.attempts,
        row.operations,
        row.error,
        row.started_at,
        row.finished_at,
    )


#: the WHERE clause of the statements on one (rollout, tenant) row
ONE_TENANT = (
    RolloutTenantRow.rollout_id == bindparam("p_rollout"),
    RolloutTenantRow.tenant_id == bindparam("p_tenant"),
)


def _mark_statement(target: TenantStatus) -> Update:
    allowed = sorted(s.value for s, targets in TENANT_TRANSITIONS.items() if target in targets)
    values: dict[str, Any] = {"status": target.value}
    if target is TenantStatus.RUNNING:
        values.update(
            attempts=RolloutTenantRow.attempts + 1,
            error=None,
            started_at=bindparam("p_now", type_=UTCDateTime),
            finished_at=None,
        )
    else:
        values.update(error=bindparam("p_error"), finished_at=bindparam("p_now", type_=UTCDateTime))
    return (
        update(RolloutTenantRow)
        .where(*ONE_TENANT)
        .where(RolloutTenantRow.status.in_(allowed))
        .values(**values)
        .returning(*TENANT_COLUMNS)
    )


# built once: mark_tenant and add_operations run thousands of times per rollout
MARK = {target: _mark_statement(target) for target in TenantStatus}
TENANT = select(*TENANT_COLUMNS).where(*ONE_TENANT)
ADD_OPERATIONS = (
    update(RolloutTenantRow)
    .where(*ONE_TENANT)
    .values(operations=RolloutTenantRow.operations + bindparam("p_count"))
    .returning(RolloutTenantRow.operations)
)


def to_rollout(
    row: RolloutRow,
    counts: WaveCounts,
    tenants: Sequence[RolloutTenant] | None = None,
) -> Rollout:
    ids: dict[int, list[str]] = {}
    for tenant in tenants or ():
        ids.setdefault(tenant.wave, []).append(tenant.tenant_id)
    waves = tuple(
        RolloutWave(
            index=index,
            name=wave["name"],
            spec_index=wave["spec_index"],
            max_concurrency=wave["max_concurrency"],
            failure_tolerance=wave["failure_tolerance"],
            size=wave["size"],
            counts=counts.get(index) or zero_counts(),
            tenant_ids=None if tenants is None else tuple(ids.get(index, ())),
        )
        for index, wave in enumerate(row.waves)
    )
    return Rollout(
        id=row.id,
        release_id=row.release_id,
        previous_release_id=row.previous_release_id,
        rollback_of=row.rollback_of,
        state=RolloutState(row.state),
        waves=waves,
        halt_reason=row.halt_reason,
        created_by=row.created_by,
        updated_by=row.updated_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tenants=None if tenants is None else tuple(tenants),
        runs=row.runs or 0,
        max_in_flight=row.max_in_flight or 1,
        jitter_seconds=float(row.jitter_seconds or 0.0),
    )


def counts_by_wave(session: Session, rollout_ids: Sequence[str]) -> dict[str, WaveCounts]:
    """rollout id → wave → status → count (every status present) for ``rollout_ids``."""
    result: dict[str, WaveCounts] = {}
    if not rollout_ids:
        return result
    query = (
        select(RolloutTenantRow.rollout_id, RolloutTenantRow.wave, RolloutTenantRow.status)
        .add_columns(func.count())
        .where(RolloutTenantRow.rollout_id.in_(rollout_ids))
        .group_by(RolloutTenantRow.rollout_id, RolloutTenantRow.wave, RolloutTenantRow.status)
    )
    for rollout_id, wave, status, count in session.execute(query):
        waves = result.setdefault(rollout_id, {})
        waves.setdefault(wave, zero_counts())[TenantStatus(status)] = int(count)
    return result


def wave_spec(wave: WavePlan) -> dict[str, Any]:
    return {
        "name": wave.name,
        "spec_index": wave.index,
        "max_concurrency": wave.max_concurrency,
        "failure_tolerance": wave.failure_tolerance,
        "size": wave.size,
    }


def check_waves(waves: Sequence[WavePlan]) -> None:
    seen: set[str] = set()
    for wave in waves:
        for tenant_id in wave.tenant_ids:
            if tenant_id in seen:
                raise ValidationError(f"tenant {tenant_id!r} appears twice in the rollout")
            seen.add(tenant_id)
