"""Rollouts as the store returns them, and the two state machines their records follow.

A **rollout** applies one release to tenants in waves. Its state moves only along
``ROLLOUT_TRANSITIONS``:

- ``pending`` → ``running`` | ``halted`` | ``failed``
- ``running`` → ``halted`` | ``completed`` | ``failed``
- ``halted`` → ``running`` (resume) | ``failed`` | ``rolled_back``
- ``completed`` → ``rolled_back``; ``failed`` → ``rolled_back``; ``rolled_back`` is final.

``halted`` is resumable (a wave crossed its failure tolerance, or an operator halted it);
``failed`` is not (the rollout could not go on); ``rolled_back`` is final: a rollback rollout
redeployed the previous release to the tenants this one changed.

Each **tenant** in a rollout moves forward only (``TENANT_TRANSITIONS``): ``pending → running →
succeeded | failed | skipped``, ``pending`` straight to a final status, and ``failed → running``
for a retry. ``succeeded`` and ``skipped`` are final. A mark that would move a tenant backwards
(a step re-run after a crash, a late duplicate) changes nothing.

Who calls it: ``store.rollouts`` (enforcing the machines, building these values), the engine
(deciding what to do next), the API and CLI (showing progress). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stockade.domain.waves import tolerance_exceeded

__all__ = [
    "CHANGED_STATUSES",
    "OPEN_ROLLOUT_STATES",
    "OPEN_STATUSES",
    "ROLLOUT_TRANSITIONS",
    "TENANT_TRANSITIONS",
    "Rollout",
    "RolloutState",
    "RolloutTenant",
    "RolloutWave",
    "TenantStatus",
    "zero_counts",
]


class RolloutState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    HALTED = "halted"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class TenantStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


_R = RolloutState
ROLLOUT_TRANSITIONS: Mapping[RolloutState, frozenset[RolloutState]] = {
    _R.PENDING: frozenset({_R.RUNNING, _R.HALTED, _R.FAILED}),
    _R.RUNNING: frozenset({_R.HALTED, _R.COMPLETED, _R.FAILED}),
    _R.HALTED: frozenset({_R.RUNNING, _R.FAILED, _R.ROLLED_BACK}),
    _R.COMPLETED: frozenset({_R.ROLLED_BACK}),
    _R.FAILED: frozenset({_R.ROLLED_BACK}),
    _R.ROLLED_BACK: frozenset(),
}

_T = TenantStatus
TENANT_TRANSITIONS: Mapping[TenantStatus, frozenset[TenantStatus]] = {
    _T.PENDING: frozenset({_T.RUNNING, _T.SUCCEEDED, _T.FAILED, _T.SKIPPED}),
    _T.RUNNING: frozenset({_T.SUCCEEDED, _T.FAILED, _T.SKIPPED}),
    _T.FAILED: frozenset({_T.RUNNING}),
    _T.SUCCEEDED: frozenset(),
    _T.SKIPPED: frozenset(),
}

#: statuses after which a tenant's stacks may differ from before the rollout
CHANGED_STATUSES = frozenset({_T.RUNNING, _T.SUCCEEDED, _T.FAILED})
#: rollout states that block another rollout from starting
OPEN_ROLLOUT_STATES = frozenset({_R.PENDING, _R.RUNNING, _R.HALTED})
#: statuses still to be worked on
OPEN_STATUSES = frozenset({_T.PENDING, _T.RUNNING})


def zero_counts() -> dict[TenantStatus, int]:
    """Counts with every status present, all zero."""
    return dict.fromkeys(TenantStatus, 0)


@dataclass(frozen=True)
class RolloutTenant:
    """One tenant's progress in a rollout."""

    tenant_id: str
    #: the wave's position in the rollout (0, 1, ...)
    wave: int
    #: the tenant's position within its wave
    position: int
    status: TenantStatus
    #: how many times the tenant went to ``running``
    attempts: int = 0
    #: stack operations started for this tenant in this rollout (``add_operations``)
    operations: int = 0
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class RolloutWave:
    """One wave of a rollout, with its tenants' counts by status."""

    #: position in the rollout (0, 1, ...)
    index: int
    name: str
    #: position in the spec's ``rollout.waves`` (empty waves were dropped)
    spec_index: int
    max_concurrency: int
    failure_tolerance: int | str
    size: int
    #: every status present, zeros included
    counts: Mapping[TenantStatus, int]
    #: in order; ``None`` when the rollout was read without its tenants
    tenant_ids: tuple[str, ...] | None = None

    @property
    def done(self) -> bool:
        """No tenant of the wave is pending or running."""
        return all(self.counts.get(s, 0) == 0 for s in OPEN_STATUSES)

    @property
    def tolerance_exceeded(self) -> bool:
        """Whether this wave's failures must halt the rollout."""
        return tolerance_exceeded(
            self.counts.get(TenantStatus.FAILED, 0), self.size, self.failure_tolerance
        )


@dataclass(frozen=True)
class Rollout:
    """A rollout of ``release_id`` in waves."""

    id: str
    release_id: str
    #: the release current before this rollout: what a rollback redeploys
    previous_release_id: str | None
    #: the rollout this one rolls back, if it is a rollback
    rollback_of: str | None
    state: RolloutState
    waves: tuple[RolloutWave, ...]
    halt_reason: str | None
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    #: every tenant in wave order; ``None`` when read without them (``list``)
    tenants: tuple[RolloutTenant, ...] | None = None
    #: how many times the rollout went to ``running`` (its start, then each resume)
    runs: int = 0
    #: stack operations the rollout may have in flight at once
    max_in_flight: int = 200
    #: the first tenants of each wave start spread over this many seconds
    jitter_seconds: float = 0.0

    @property
    def open(self) -> bool:
        """Not yet finished: pending, running or halted (another rollout must wait)."""
        return self.state in OPEN_ROLLOUT_STATES

    @property
    def size(self) -> int:
        return sum(wave.size for wave in self.waves)

    @property
    def counts(self) -> dict[TenantStatus, int]:
        """Tenants by status over all waves, every status present."""
        totals = zero_counts()
        for wave in self.waves:
            for status, count in wave.counts.items():
                totals[status] += count
        return totals

    @property
    def current_wave(self) -> int | None:
        """The first wave that is not done, or None when every wave is."""
        return next((wave.index for wave in self.waves if not wave.done), None)
