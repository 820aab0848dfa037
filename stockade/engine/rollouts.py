"""``RolloutService``: the engine's implementation of ``engine.facade.RolloutOperations``.

``apply`` reloads the running spec (cfn-lint gate: an invalid template refuses the apply with
the file, line and rule), stores its templates and its release and makes that release current
(tenants onboarded from now on get it), plans every tenant, puts the tenants with changes in the
spec's waves (``domain.waves.plan_waves``, seeded with the release id) and starts the rollout
workflow. One rollout is open at a time (``RolloutRepository.create`` refuses a second one in
the same transaction), so no two rollouts ever touch one stack.

``halt`` marks the rollout halted: the running wave starts no more tenants (those in flight
finish). ``resume`` starts a new run of a halted rollout, once the previous run has stopped.
``rollback`` starts a rollout of the previous release to the tenants this one changed (one wave,
the rollout's full concurrency, no halting: every changed tenant must go back) and makes the
previous release current again.

A rollout is recorded before its workflow starts; ``resume_open`` (at start) starts the
workflow of any running rollout whose start was interrupted (the workflow id makes a second
start harmless) and of pending ones.

Who calls it: ``api`` (through the facade), ``server`` (wiring, ``resume_open`` at start),
tests, ``bench/rollout.py``.
"""

from __future__ import annotations

import builtins

from dbos import DBOS, SetWorkflowID, WorkflowStatusString

from stockade.domain.errors import ConflictError
from stockade.domain.release import build_release
from stockade.domain.waves import WavePlan, WaveTenant, plan_waves
from stockade.engine.facade import ApplyOutcome
from stockade.engine.planning import PLANNED_STATES
from stockade.engine.rollout_deps import RolloutDeps
from stockade.engine.rollout_workflow import RolloutWorkflow, workflow_id
from stockade.spec.loader import LoadedSpec
from stockade.store.rollout_types import Rollout, RolloutState, TenantStatus
from stockade.store.templates import StoredTemplate

__all__ = ["ROLLBACK_WAVE", "RolloutService"]

#: the one wave of a rollback: everyone the rollout changed, never halting
ROLLBACK_WAVE = "rollback"
_LIVE = frozenset({WorkflowStatusString.PENDING.value, WorkflowStatusString.ENQUEUED.value})


def stored_templates(loaded: LoadedSpec) -> list[StoredTemplate]:
    return [
        StoredTemplate(
            sha256=info.sha256,
            body=info.body,
            parameters=frozenset(info.parameters),
            resources=dict(info.resources),
        )
        for info in loaded.templates.values()
    ]


class RolloutService:
    def __init__(self, deps: RolloutDeps, workflow: RolloutWorkflow) -> None:
        self._d = deps
        self._workflow = workflow

    # -- apply ---------------------------------------------------------------------------

    def apply(self, *, actor: str, refresh: bool = False) -> ApplyOutcome:
        d = self._d
        loaded = d.spec.current()
        release = build_release(loaded.spec, loaded.templates)
        blocking = d.rollouts.open_rollout()
        if blocking is not None:
            raise self._still_open(blocking)
        d.templates.save_all(stored_templates(loaded))
        outcome = d.planner.plan(refresh=refresh)
        if outcome.plan.release_id != release.release_id:
            raise ConflictError(
                "the spec changed while it was being planned",
                hint="run `stockade apply` again",
            )
        scp_actions = d.planner.guardrails.reconcile(
            loaded, actor=actor, planned=outcome.guardrails
        )
        previous = d.releases.latest()
        new = d.releases.save(release, actor=actor)
        if not new and (previous is None or previous.release_id != release.release_id):
            d.releases.mark_applied(release.release_id, actor=actor)
        changed = [t.tenant_id for t in outcome.plan.tenants if t.changes and t.error is None]
        if not changed:
            return ApplyOutcome(
                release_id=release.release_id,
                new_release=new,
                plan=outcome.plan,
                rollout=None,
                observed_now=outcome.observed_now,
                scp_actions=scp_actions,
            )
        labels = {t.tenant_id: t.labels for t in d.tenants.in_states(PLANNED_STATES)}
        waves = plan_waves(
            [WaveTenant(tenant_id, labels.get(tenant_id, {})) for tenant_id in changed],
            loaded.spec.rollout.waves,
            seed=release.release_id,
        )
        before = previous.release_id if previous is not None else None
        rollout = d.rollouts.create(
            release.release_id,
            waves,
            actor=actor,
            previous_release_id=before if before != release.release_id else None,
            max_in_flight=loaded.spec.rollout.max_in_flight,
            jitter_seconds=loaded.spec.rollout.jitter_seconds,
        )
        return ApplyOutcome(
            release_id=release.release_id,
            new_release=new,
            plan=outcome.plan,
            rollout=self._start(rollout.id, actor=actor),
            observed_now=outcome.observed_now,
            scp_actions=scp_actions,
        )

    # -- reading -------------------------------------------------------------------------

    def list_rollouts(
        self, *, limit: int = 50, state: RolloutState | None = None
    ) -> builtins.list[Rollout]:
        return self._d.rollouts.list(limit=limit, state=state)

    def get_rollout(self, rollout_id: str, *, tenants: bool = True) -> Rollout:
        return self._d.rollouts.get(rollout_id, tenants=tenants)

    # -- control -------------------------------------------------------------------------

    def halt_rollout(self, rollout_id: str, *, actor: str, reason: str) -> Rollout:
        rollout = self._d.rollouts.get(rollout_id, tenants=False)
        if rollout.state not in (RolloutState.PENDING, RolloutState.RUNNING):
            raise ConflictError(
                f"rollout {rollout_id} is {rollout.state.value}; only a pending or running "
                "rollout can be halted"
            )
        self._d.rollouts.transition(rollout_id, RolloutState.HALTED, actor=actor, reason=reason)
        return self._d.rollouts.get(rollout_id)

    def resume_rollout(self, rollout_id: str, *, actor: str) -> Rollout:
        rollout = self._d.rollouts.get(rollout_id, tenants=False)
        if rollout.state is not RolloutState.HALTED:
            raise ConflictError(
                f"rollout {rollout_id} is {rollout.state.value}; only a halted rollout can be "
                "resumed"
            )
        self._check_stopped(rollout)
        return self._start(rollout_id, actor=actor)

    def rollback_rollout(self, rollout_id: str, *, actor: str) -> Rollout:
        d = self._d
        rollout = d.rollouts.get(rollout_id, tenants=False)
        if rollout.state in (RolloutState.PENDING, RolloutState.RUNNING):
            raise ConflictError(
                f"rollout {rollout_id} is {rollout.state.value}",
                hint=f"halt it first: `stockade rollout halt {rollout_id}`",
            )
        if rollout.state is RolloutState.ROLLED_BACK:
            raise ConflictError(f"rollout {rollout_id} is already rolled back")
        previous = rollout.previous_release_id
        if previous is None:
            raise ConflictError(
                f"rollout {rollout_id} has no previous release to go back to",
                hint="it was the first release applied, or it re-applied the current one",
            )
        self._check_stopped(rollout)
        changed = d.rollouts.changed_tenants(rollout_id)
        waves = (
            [
                WavePlan(
                    name=ROLLBACK_WAVE,
                    index=0,
                    tenant_ids=tuple(changed),
                    max_concurrency=rollout.max_in_flight,
                    failure_tolerance="100%",
                )
            ]
            if changed
            else []
        )
        back = d.rollouts.create(
            previous,
            waves,
            actor=actor,
            previous_release_id=rollout.release_id,
            rollback_of=rollout_id,
            max_in_flight=rollout.max_in_flight,
            jitter_seconds=rollout.jitter_seconds,
        )
        d.rollouts.transition(
            rollout_id, RolloutState.ROLLED_BACK, actor=actor, reason=f"rolled back by {back.id}"
        )
        d.releases.mark_applied(previous, actor=actor)
        return self._start(back.id, actor=actor)

    # -- workflows -----------------------------------------------------------------------

    def resume_open(self) -> int:
        """Start the workflow of every pending rollout, and of running ones whose start was
        interrupted (a no-op for those DBOS already has). Returns how many were looked at."""
        rollouts = [
            *self._d.rollouts.list(limit=1000, state=RolloutState.PENDING),
            *self._d.rollouts.list(limit=1000, state=RolloutState.RUNNING),
        ]
        for rollout in rollouts:
            if rollout.state is RolloutState.PENDING:
                self._start(rollout.id, actor="engine")
            else:
                self._launch(rollout.id, rollout.runs)
        return len(rollouts)

    def _start(self, rollout_id: str, *, actor: str) -> Rollout:
        rollout = self._d.rollouts.transition(rollout_id, RolloutState.RUNNING, actor=actor)
        self._launch(rollout_id, rollout.runs)
        return self._d.rollouts.get(rollout_id)

    def _launch(self, rollout_id: str, run: int) -> None:
        with SetWorkflowID(workflow_id(rollout_id, run)):
            DBOS.start_workflow(self._workflow.run, rollout_id)

    def run_active(self, rollout: Rollout) -> bool:
        """Whether the rollout's last run is still working (finishing its tenants in flight
        after a halt, or running)."""
        if rollout.runs == 0:
            return False
        status = DBOS.get_workflow_status(workflow_id(rollout.id, rollout.runs))
        return status is not None and status.status in _LIVE

    def _check_stopped(self, rollout: Rollout) -> None:
        """ConflictError while the last run's workflow is still finishing its tenants."""
        if self.run_active(rollout):
            running = rollout.counts.get(TenantStatus.RUNNING, 0)
            raise ConflictError(
                f"rollout {rollout.id} is still stopping ({running} tenant(s) in flight)",
                hint="try again in a moment, once they have finished",
            )

    @staticmethod
    def _still_open(rollout: Rollout) -> ConflictError:
        return ConflictError(
            f"rollout {rollout.id} is {rollout.state.value}",
            hint=(
                f"wait for it (`stockade rollout watch {rollout.id}`)"
                if rollout.state is not RolloutState.HALTED
                else f"resume it or roll it back (`stockade rollout resume {rollout.id}`)"
            ),
        )
