"""The rollout workflow: one durable DBOS workflow per run of a rollout, one step per wave.

``RolloutWorkflow.run(rollout_id)`` runs the rollout's waves in order (``engine.wave_runner``),
stops when a wave halts the rollout (its tolerance, or an operator), and completes the rollout
after the last wave. Its workflow id is ``rollout-<id>-run-<n>`` (``workflow_id``): the n-th
time the rollout went to ``running`` (its start, then each resume), so starting it twice is
harmless and a crash is recovered by DBOS at the next start, re-running only the wave step that
was interrupted (which resumes its tenants where they were).

An unexpected error fails the rollout (``failed``, with the reason): it can then be rolled
back, not resumed.

Who calls it: ``engine.rollouts.RolloutService`` starts it; DBOS runs and recovers it.
"""

from __future__ import annotations

from dbos import DBOS

from stockade.engine.instances import BoundInstance
from stockade.engine.onboarding import RETRY, describe_failure
from stockade.engine.rollout_deps import RolloutDeps
from stockade.engine.wave_runner import WaveOutcome, WaveRunner
from stockade.store.rollout_types import RolloutState

__all__ = ["RolloutWorkflow", "workflow_id"]

ACTOR = "engine"


def workflow_id(rollout_id: str, run: int) -> str:
    """The DBOS workflow id of the ``run``-th run of a rollout."""
    return f"rollout-{rollout_id}-run-{run}"


@DBOS.dbos_class()
class RolloutWorkflow(BoundInstance[RolloutDeps]):
    """DBOS workflow and steps of rollouts; one instance per process, named ``rollouts``."""

    NAME = "rollouts"

    @DBOS.workflow()
    def run(self, rollout_id: str) -> str:
        try:
            waves = self.waves(rollout_id)
            for index in range(waves):
                if self.run_wave(rollout_id, index) != WaveOutcome.DONE.value:
                    return RolloutState.HALTED.value
            return self.complete(rollout_id)
        except Exception as exc:  # noqa: BLE001 - any error must end as a failed rollout
            return self.fail(rollout_id, describe_failure(exc))

    @DBOS.step(**RETRY)
    def waves(self, rollout_id: str) -> int:
        """How many waves to run: all of them while the rollout is running, else none."""
        rollout = self.deps.rollouts.get(rollout_id, tenants=False)
        return len(rollout.waves) if rollout.state is RolloutState.RUNNING else 0

    @DBOS.step(**RETRY)
    def run_wave(self, rollout_id: str, index: int) -> str:
        return WaveRunner(self.deps).run(rollout_id, index).value

    @DBOS.step(**RETRY)
    def complete(self, rollout_id: str) -> str:
        rollouts = self.deps.rollouts
        rollout = rollouts.get(rollout_id, tenants=False)
        if rollout.state is RolloutState.RUNNING:
            rollout = rollouts.transition(rollout_id, RolloutState.COMPLETED, actor=ACTOR)
        return rollout.state.value

    @DBOS.step(**RETRY)
    def fail(self, rollout_id: str, reason: str) -> str:
        rollouts = self.deps.rollouts
        rollout = rollouts.get(rollout_id, tenants=False)
        if rollout.state in (RolloutState.PENDING, RolloutState.RUNNING, RolloutState.HALTED):
            rollout = rollouts.transition(
                rollout_id, RolloutState.FAILED, actor=ACTOR, reason=reason
            )
        return rollout.state.value
