"""``FakeRollouts``: an in-memory ``RolloutOperations`` with the store's state machines, the
seam the API and CLI rollout tests drive (``step()``/``run()`` move tenants forward).

Who uses it: ``tests/api`` and ``tests/cli``.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from api.fakes import FixedPlans
from stockade.domain.errors import ConflictError, NotFoundError
from stockade.domain.spec import Wave
from stockade.domain.waves import WavePlan, WaveTenant, plan_waves
from stockade.engine.facade import ApplyOutcome
from stockade.store.rollout_types import (
    CHANGED_STATUSES,
    ROLLOUT_TRANSITIONS,
    TENANT_TRANSITIONS,
    Rollout,
    RolloutState,
    RolloutTenant,
    RolloutWave,
    TenantStatus,
    zero_counts,
)

FAKE_WAVES = (
    Wave(name="canary", percent=20, max_concurrency=1),
    Wave(name="rest", percent=100, max_concurrency=2),
)
_LIVE = frozenset({RolloutState.PENDING, RolloutState.RUNNING})
_OPEN = _LIVE | {RolloutState.HALTED}
_EPOCH = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class _Record:
    id: str
    release_id: str
    previous_release_id: str | None
    rollback_of: str | None
    created_by: str
    created_at: datetime
    waves: tuple[WavePlan, ...]
    #: tenant id -> progress, in wave order
    tenants: dict[str, RolloutTenant]
    state: RolloutState = RolloutState.PENDING
    halt_reason: str | None = None
    updated_by: str = ""
    updated_at: datetime = _EPOCH
    #: failed tenants a resume tries again
    retry: set[str] = field(default_factory=set)


class FakeRollouts:
    """``RolloutOperations`` in memory, following the store's state machines.

    ``apply`` plans with ``plans`` (so ``stockade plan`` and ``apply`` agree) and puts the changed
    tenants in ``waves`` with the domain's ``plan_waves``. Nothing runs by itself: ``step()``
    moves every live rollout one tick (pending → running; tenants in flight finish, succeeding
    unless listed in ``failing``; the next tenants of the current wave start; a wave over its
    failure tolerance halts the rollout; no tenant left completes it). With ``advance_on_read``
    every ``get_rollout`` steps first, so a client polling or streaming sees progress.
    """

    def __init__(
        self,
        plans: FixedPlans | None = None,
        *,
        waves: tuple[Wave, ...] = FAKE_WAVES,
        advance_on_read: bool = False,
    ) -> None:
        self.plans = plans or FixedPlans()
        self.waves = waves
        self.advance_on_read = advance_on_read
        self.failing: set[str] = set()
        self.records: dict[str, _Record] = {}
        self.current_release: str | None = None
        self.releases: set[str] = set()
        self.actors: list[str] = []
        self.reads = 0
        self._ticks = itertools.count(1)
        self._lock = threading.RLock()

    # --- RolloutOperations ----------------------------------------------------------------

    def apply(self, *, actor: str, refresh: bool = False) -> ApplyOutcome:
        with self._lock:
            for record in self.records.values():
                if record.state in _OPEN:
                    raise ConflictError(
                        f"rollout {record.id!r} is {record.state.value}",
                        hint="resume it or roll it back first",
                    )
            plan = self.plans.plan(refresh=refresh).plan
            new_release = plan.release_id not in self.releases
            self.releases.add(plan.release_id)
            previous, self.current_release = self.current_release, plan.release_id
            self.actors.append(actor)
            changed = [t.tenant_id for t in plan.tenants if t.changes]
            rollout = None
            if changed:
                record = self._create(plan.release_id, previous, None, changed, actor)
                rollout = self._value(record, with_tenants=True)
            return ApplyOutcome(
                release_id=plan.release_id,
                new_release=new_release,
                plan=plan,
                rollout=rollout,
                observed_now=0,
            )

    def list_rollouts(self, *, limit: int = 50, state: RolloutState | None = None) -> list[Rollout]:
        with self._lock:
            found = [r for r in self.records.values() if state is None or r.state is state]
            newest = sorted(found, key=lambda r: r.created_at, reverse=True)
            return [self._value(r, with_tenants=False) for r in newest[:limit]]

    def get_rollout(self, rollout_id: str, *, tenants: bool = True) -> Rollout:
        with self._lock:
            record = self._find(rollout_id)
            self.reads += 1
            if self.advance_on_read:
                self.step()
            return self._value(record, with_tenants=tenants)

    def halt_rollout(self, rollout_id: str, *, actor: str, reason: str) -> Rollout:
        with self._lock:
            record = self._find(rollout_id)
            if record.state not in _LIVE:
                raise ConflictError(
                    f"rollout {rollout_id!r} is {record.state.value}, not pending or running",
                    hint="only a pending or running rollout can be halted",
                )
            self._transition(record, RolloutState.HALTED, actor, reason)
            return self._value(record, with_tenants=True)

    def resume_rollout(self, rollout_id: str, *, actor: str) -> Rollout:
        with self._lock:
            record = self._find(rollout_id)
            if record.state is not RolloutState.HALTED:
                raise ConflictError(
                    f"rollout {rollout_id!r} is {record.state.value}, not halted",
                    hint="only a halted rollout can be resumed",
                )
            record.retry = {
                t.tenant_id for t in record.tenants.values() if t.status is TenantStatus.FAILED
            }
            self._transition(record, RolloutState.RUNNING, actor, None)
            return self._value(record, with_tenants=True)

    def rollback_rollout(self, rollout_id: str, *, actor: str) -> Rollout:
        with self._lock:
            record = self._find(rollout_id)
            problem = None
            if record.state in _LIVE:
                problem = f"is {record.state.value}: halt it first"
            elif record.state is RolloutState.ROLLED_BACK:
                problem = "is already rolled back"
            elif record.previous_release_id is None:
                problem = "has no previous release to go back to"
            if problem is not None:
                raise ConflictError(f"rollout {rollout_id!r} {problem}")
            changed = [t.tenant_id for t in record.tenants.values() if t.status in CHANGED_STATUSES]
            self._transition(record, RolloutState.ROLLED_BACK, actor, record.halt_reason)
            assert record.previous_release_id is not None
            self.current_release = record.previous_release_id
            rollback = self._create(
                record.previous_release_id, record.release_id, record.id, changed, actor
            )
            return self._value(rollback, with_tenants=True)

    # --- test helpers ---------------------------------------------------------------------

    def step(self) -> None:
        """Move every live rollout one tick (see the class docstring)."""
        with self._lock:
            for record in list(self.records.values()):
                if record.state in _LIVE:
                    self._step(record)

    def run(self, rollout_id: str, *, max_steps: int = 100) -> Rollout:
        """Step until the rollout is no longer pending or running."""
        for _ in range(max_steps):
            if self._find(rollout_id).state not in _LIVE:
                break
            self.step()
        return self._value(self._find(rollout_id), with_tenants=True)

    def only(self) -> Rollout:
        """The newest rollout."""
        return self.list_rollouts(limit=1)[0]

    # --- internals ------------------------------------------------------------------------

    def _now(self) -> datetime:
        return _EPOCH + timedelta(seconds=next(self._ticks))

    def _find(self, rollout_id: str) -> _Record:
        try:
            return self.records[rollout_id]
        except KeyError:
            raise NotFoundError(
                f"rollout {rollout_id!r} does not exist",
                hint="list rollouts with `stockade rollout list`",
            ) from None

    def _create(
        self,
        release_id: str,
        previous: str | None,
        rollback_of: str | None,
        tenant_ids: list[str],
        actor: str,
    ) -> _Record:
        waves = tuple(plan_waves([WaveTenant(t) for t in tenant_ids], self.waves))
        tenants = {
            tenant_id: RolloutTenant(tenant_id, index, position, TenantStatus.PENDING)
            for index, wave in enumerate(waves)
            for position, tenant_id in enumerate(wave.tenant_ids)
        }
        now = self._now()
        record = _Record(
            id=f"ro-{len(self.records) + 1:04d}",
            release_id=release_id,
            previous_release_id=previous,
            rollback_of=rollback_of,
            created_by=actor,
            created_at=now,
            waves=waves,
            tenants=tenants,
            updated_by=actor,
            updated_at=now,
        )
        self.records[record.id] = record
        return record

    def _transition(
        self, record: _Record, state: RolloutState, actor: str, reason: str | None
    ) -> None:
        assert state in ROLLOUT_TRANSITIONS[record.state], (record.state, state)
        record.state, record.halt_reason = state, reason
        record.updated_by, record.updated_at = actor, self._now()

    def _mark(self, record: _Record, tenant_id: str, status: TenantStatus) -> None:
        tenant = record.tenants[tenant_id]
        assert status in TENANT_TRANSITIONS[tenant.status], (tenant.status, status)
        now = self._now()
        if status is TenantStatus.RUNNING:
            tenant = replace(
                tenant, attempts=tenant.attempts + 1, error=None, started_at=now, finished_at=None
            )
        else:
            failed = status is TenantStatus.FAILED
            error = f"stack stockade-baseline failed in {tenant_id}" if failed else None
            tenant = replace(tenant, error=error, operations=tenant.operations + 1, finished_at=now)
        record.tenants[tenant_id] = replace(tenant, status=status)

    def _step(self, record: _Record) -> None:
        if record.state is RolloutState.PENDING:
            self._transition(record, RolloutState.RUNNING, "engine", None)
            return
        for tenant in list(record.tenants.values()):
            if tenant.status is TenantStatus.RUNNING:
                failed = tenant.tenant_id in self.failing
                status = TenantStatus.FAILED if failed else TenantStatus.SUCCEEDED
                self._mark(record, tenant.tenant_id, status)
        for wave in record.waves:
            members = [record.tenants[t] for t in wave.tenant_ids]
            failures = sum(
                t.status is TenantStatus.FAILED and t.tenant_id not in record.retry for t in members
            )
            if wave.tolerance_exceeded(failures):
                reason = f"wave {wave.name}: {failures} of {wave.size} tenant(s) failed"
                self._transition(record, RolloutState.HALTED, "engine", reason)
                return
            todo = [
                t.tenant_id
                for t in members
                if t.status is TenantStatus.PENDING or t.tenant_id in record.retry
            ]
            if todo:
                for tenant_id in todo[: wave.max_concurrency]:
                    record.retry.discard(tenant_id)
                    self._mark(record, tenant_id, TenantStatus.RUNNING)
                return
        self._transition(record, RolloutState.COMPLETED, "engine", None)

    def _value(self, record: _Record, *, with_tenants: bool) -> Rollout:
        waves = []
        for index, wave in enumerate(record.waves):
            counts = zero_counts()
            for tenant_id in wave.tenant_ids:
                counts[record.tenants[tenant_id].status] += 1
            waves.append(
                RolloutWave(
                    index=index,
                    name=wave.name,
                    spec_index=wave.index,
                    max_concurrency=wave.max_concurrency,
                    failure_tolerance=wave.failure_tolerance,
                    size=wave.size,
                    counts=counts,
                    tenant_ids=wave.tenant_ids if with_tenants else None,
                )
            )
        return Rollout(
            id=record.id,
            release_id=record.release_id,
            previous_release_id=record.previous_release_id,
            rollback_of=record.rollback_of,
            state=record.state,
            waves=tuple(waves),
            halt_reason=record.halt_reason,
            created_by=record.created_by,
            updated_by=record.updated_by,
            created_at=record.created_at,
            updated_at=record.updated_at,
            tenants=tuple(record.tenants.values()) if with_tenants else None,
        )
