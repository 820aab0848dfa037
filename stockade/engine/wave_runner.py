"""Running one wave of a rollout: deploy its tenants, a bounded number at a time, and halt at
the wave's failure tolerance or when an operator halts the rollout.

``WaveRunner.run`` is the body of one durable step (``engine.rollout_workflow``): it works from
the ``rollout_tenants`` rows, so a re-run after a crash skips the tenants that finished and
resumes those in flight with the same change set (no stack operation is started twice). The
tenants still to do are the wave's pending and running ones, plus, on a resumed run, those that
failed in an earlier run (``attempts`` < the rollout's ``runs``).

Concurrency is the wave's ``max_concurrency`` capped by the rollout's ``max_in_flight``; slots
are handed out as tenants finish, so the wave never waits on its slowest tenant. The first
tenants start spread over ``jitter_seconds`` (``domain.waves.jitter_delay``: deterministic per
tenant and rollout), so a wave never starts the same operation everywhere at once; after that
the finishing times keep the starts spread. A failed tenant is recorded with its one-line
error; when the wave's failures cross its tolerance the runner halts the rollout itself, starts
no more tenants, and lets those in flight finish. An operator's halt is noticed within
``halt_check_interval``.

Who calls it: ``engine.rollout_workflow`` (one step per wave).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

from stockade.domain.errors import StockadeError
from stockade.domain.release import NO_OVERRIDES, Release, TenantOverrides
from stockade.domain.stacks import RecordedStack
from stockade.domain.tenant import Tenant, TenantState
from stockade.domain.waves import jitter_delay, tolerance_exceeded
from stockade.engine.durations import StackDurations
from stockade.engine.rollout_deps import RolloutDeps
from stockade.engine.tenant_deploy import DeployTarget, TenantDeployer
from stockade.store.deployments import Observation
from stockade.store.rollout_types import (
    Rollout,
    RolloutState,
    RolloutTenant,
    RolloutWave,
    TenantStatus,
)

__all__ = ["WaveOutcome", "WaveRunner", "change_set_name"]

log = logging.getLogger("stockade.rollout")
ACTOR = "engine"
#: tenants in these states get deployments; others are skipped (retiring, closed, ...)
DEPLOYABLE = (TenantState.ACTIVE, TenantState.SUSPENDED)


class WaveOutcome(StrEnum):
    DONE = "done"
    HALTED = "halted"


def change_set_name(rollout_id: str, attempt: int) -> str:
    """The change set every stack of a tenant gets in one attempt of one rollout."""
    return f"stockade-{rollout_id}-a{attempt}"


def describe(exc: BaseException) -> str:
    if isinstance(exc, StockadeError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}"


class _Wave:
    """The state one run of one wave shares between its worker threads."""

    def __init__(self, rollout: Rollout, wave: RolloutWave, failed_before: int) -> None:
        self.rollout = rollout
        self.wave = wave
        self.failures = failed_before
        self.stop = threading.Event()
        #: when the rollout's state was last read (``WaveRunner._take_slot``)
        self.checked_at = 0.0
        self.lock = threading.Lock()

    def failed(self) -> bool:
        """Count one failure; True if the wave just crossed its tolerance."""
        with self.lock:
            self.failures += 1
            return self.wave.size > 0 and _exceeded(self.wave, self.failures)


def _exceeded(wave: RolloutWave, failures: int) -> bool:
    return tolerance_exceeded(failures, wave.size, wave.failure_tolerance)


class WaveRunner:
    def __init__(self, deps: RolloutDeps) -> None:
        self._d = deps

    def run(self, rollout_id: str, wave_index: int) -> WaveOutcome:
        d = self._d
        rollout = d.rollouts.get(rollout_id, tenants=False)
        if rollout.state is not RolloutState.RUNNING:
            return WaveOutcome.HALTED
        wave = rollout.waves[wave_index]
        members = d.rollouts.wave_tenants(rollout_id, wave_index)
        work = [m for m in members if self._to_do(m, rollout.runs)]
        failed_before = sum(1 for m in members if m.status is TenantStatus.FAILED and m not in work)
        state = _Wave(rollout, wave, failed_before)
        if _exceeded(wave, failed_before):
            return self._halt(state, "failures from an earlier run")
        if work:
            self._deploy_all(state, work)
        # a tenant thread ended by the process stopping left its tenant running: the step must
        # not record an outcome, so DBOS re-runs it at the next start
        d.stop.check()
        if state.stop.is_set() or self._halted(rollout_id):
            return WaveOutcome.HALTED
        return WaveOutcome.DONE

    @staticmethod
    def _to_do(member: RolloutTenant, runs: int) -> bool:
        if member.status in (TenantStatus.PENDING, TenantStatus.RUNNING):
            return True
        return member.status is TenantStatus.FAILED and member.attempts < runs

    def _deploy_all(self, state: _Wave, work: list[RolloutTenant]) -> None:
        d = self._d
        rollout, wave = state.rollout, state.wave
        release = d.releases.get(rollout.release_id)
        tenants = {t.tenant_id: t for t in d.tenants.in_states(DEPLOYABLE)}
        overrides = d.overrides.overrides_for_all()
        pins = d.releases.by_ids(
            {pin for o in overrides.values() for pin in o.pins.values()} - {release.release_id}
        )
        observed = d.deployments.observed_all()
        recorded = d.deployments.recorded_all()
        target = d.target()
        deployer = TenantDeployer(
            cloud=d.cloud,
            deployments=d.deployments,
            templates=d.templates,
            timing=d.timing,
            durations=StackDurations(default_poll=d.timing.stack_poll_interval),
            sleep=d.sleep,
            clock=d.clock,
        )
        concurrency = max(1, min(wave.max_concurrency, rollout.max_in_flight))
        jitter = rollout.jitter_seconds / d.timing.time_scale
        slots = threading.Semaphore(concurrency)
        began = d.clock()

        def one(member: RolloutTenant, start_after: float) -> None:
            try:
                wait = start_after - (d.clock() - began)
                if wait > 0:
                    d.sleep(wait)
                if not state.stop.is_set():
                    self._deploy_one(
                        state,
                        member,
                        tenant=tenants.get(member.tenant_id),
                        release=release,
                        target=target,
                        deployer=deployer,
                        overrides=overrides.get(member.tenant_id, NO_OVERRIDES),
                        pins=pins,
                        observed=observed.get(member.tenant_id),
                        recorded=recorded,
                    )
            finally:
                slots.release()

        with ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix=f"wave-{wave.index}"
        ) as pool:
            for position, member in enumerate(work):
                if not self._take_slot(slots, state):
                    break
                start_after = (
                    jitter_delay(member.tenant_id, rollout.id, jitter)
                    if position < concurrency
                    else 0.0
                )
                pool.submit(one, member, start_after)

    def _deploy_one(
        self,
        state: _Wave,
        member: RolloutTenant,
        *,
        tenant: Tenant | None,
        release: Release,
        target: DeployTarget,
        deployer: TenantDeployer,
        overrides: TenantOverrides,
        pins: dict[str, Release],
        observed: Observation | None,
        recorded: Mapping[str, Sequence[RecordedStack]],
    ) -> None:
        d = self._d
        rollout_id, tenant_id = state.rollout.id, member.tenant_id
        if tenant is None:
            current = self._tenant_state(tenant_id)
            d.rollouts.mark_tenant(
                rollout_id,
                tenant_id,
                TenantStatus.SKIPPED,
                error=f"tenant is {current}: nothing deployed",
            )
            return
        try:
            progress = d.rollouts.mark_tenant(rollout_id, tenant_id, TenantStatus.RUNNING)
            if progress.status is not TenantStatus.RUNNING:
                return  # finished by an earlier run of this step
            deployer.deploy(
                tenant,
                release,
                target=target,
                overrides=overrides,
                releases_by_id=pins,
                deployed=observed.stacks if observed is not None else (),
                recorded=recorded.get(tenant_id, ()),
                change_set_name=change_set_name(rollout_id, progress.attempts),
                on_operation=lambda: self._count_operation(rollout_id, tenant_id),
            )
        except Exception as exc:  # noqa: BLE001 - any error fails this tenant, not the wave
            error = describe(exc)
            log.warning("rollout %s: tenant %s failed: %s", rollout_id, tenant_id, error)
            d.rollouts.mark_tenant(rollout_id, tenant_id, TenantStatus.FAILED, error=error)
            if state.failed():
                self._halt(state, f"{state.failures} failed")
            return
        d.rollouts.mark_tenant(rollout_id, tenant_id, TenantStatus.SUCCEEDED)

    def _count_operation(self, rollout_id: str, tenant_id: str) -> None:
        self._d.rollouts.add_operations(rollout_id, tenant_id)

    def _tenant_state(self, tenant_id: str) -> str:
        try:
            return self._d.tenants.get(tenant_id).state.value
        except StockadeError:
            return "gone"

    def _halt(self, state: _Wave, what: str) -> WaveOutcome:
        state.stop.set()
        wave = state.wave
        reason = (
            f"wave {wave.name!r} crossed its failure tolerance "
            f"({what} of {wave.size}, tolerance {wave.failure_tolerance})"
        )
        rollout = self._d.rollouts.get(state.rollout.id, tenants=False)
        if rollout.state is RolloutState.RUNNING:
            self._d.rollouts.transition(
                state.rollout.id, RolloutState.HALTED, actor=ACTOR, reason=reason
            )
        return WaveOutcome.HALTED

    def _take_slot(self, slots: threading.Semaphore, state: _Wave) -> bool:
        """Wait for a free slot; False (holding none) once the rollout stopped running.
        The rollout's state is read at most once per ``halt_check_interval``."""
        interval = self._d.halt_check_interval
        while not state.stop.is_set():
            self._d.stop.check()
            acquired = slots.acquire(timeout=interval)
            if self._d.clock() - state.checked_at >= interval or not acquired:
                state.checked_at = self._d.clock()
                if self._halted(state.rollout.id):
                    state.stop.set()
            if acquired:
                if not state.stop.is_set():
                    return True
                slots.release()
        return False

    def _halted(self, rollout_id: str) -> bool:
        return self._d.rollouts.state_of(rollout_id) is not RolloutState.RUNNING
