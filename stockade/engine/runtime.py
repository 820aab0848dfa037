"""DBOS lifecycle for one Stockade process: configure, launch, register queues, shut down.

DBOS keeps one instance per process (its own global); this object is the only code that touches
that lifecycle. Pitfalls handled here (see DESIGN.md): ``application_version`` pinned,
``executor_id`` unique and stable, queues registered after launch with ``worker_concurrency``
and a short polling interval.

Who calls it: ``server`` (start and stop), tests and benchmarks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from dbos import DBOS, DBOSConfig

from stockade.domain.quotas import QuotaTable
from stockade.engine.onboarding import Onboarding, OnboardingDeps
from stockade.engine.rollout_deps import RolloutDeps
from stockade.engine.rollout_workflow import RolloutWorkflow

#: bump when a workflow's step sequence changes incompatibly; in-flight workflows of another
#: version are not recovered by this code
WORKFLOW_VERSION = "stockade-workflows-2"
ACCOUNT_QUEUE = "onboard-account"
BASELINE_QUEUE = "onboard-baseline"
SERVICES_QUEUE = "onboard-services"


@dataclass(frozen=True)
class RuntimeConfig:
    system_database_url: str
    executor_id: str
    onboard_concurrency: int = 50
    #: new tenants whose services deploy at once (kept low: onboarding comes first)
    services_concurrency: int = 8
    #: how often DBOS looks for work in the onboarding queues: each look is a few queries on
    #: the system database, so faster costs CPU all the time, idle or not (measured: 0.05 s
    #: for two queues took a third of a core)
    polling_interval: float = 0.1


class EngineRuntime:
    def __init__(
        self,
        config: RuntimeConfig,
        deps: OnboardingDeps,
        quotas: QuotaTable,
        rollout_deps: RolloutDeps | None = None,
    ) -> None:
        self._config = config
        self._deps = deps
        self._rollout_deps = rollout_deps
        self._quotas = quotas
        self._launched = False
        self.onboarding: Onboarding | None = None
        self.rollouts: RolloutWorkflow | None = None

    def launch(self) -> Onboarding:
        dbos_config: DBOSConfig = {
            "name": "stockade",
            "system_database_url": self._config.system_database_url,
            "application_version": WORKFLOW_VERSION,
            "executor_id": self._config.executor_id,
            "log_level": "WARNING",
        }
        DBOS(config=dbos_config)
        # configured instances must exist before launch so recovery can find them
        self.onboarding = Onboarding.bind(self._deps)
        if self._rollout_deps is not None:
            self.rollouts = RolloutWorkflow.bind(self._rollout_deps)
        DBOS.launch()
        self._launched = True
        in_flight = self._quotas.get("organizations", "CreateAccount").concurrent or 5
        self._deps.queues.account = DBOS.register_queue(
            ACCOUNT_QUEUE,
            global_concurrency=in_flight,
            worker_concurrency=in_flight,
            polling_interval_sec=self._config.polling_interval,
        )
        self._deps.queues.baseline = DBOS.register_queue(
            BASELINE_QUEUE,
            worker_concurrency=self._config.onboard_concurrency,
            polling_interval_sec=self._config.polling_interval,
        )
        self._deps.queues.services = DBOS.register_queue(
            SERVICES_QUEUE,
            worker_concurrency=self._config.services_concurrency,
            polling_interval_sec=self._config.polling_interval * 10,
        )
        self._wait_for_queue_workers((ACCOUNT_QUEUE, BASELINE_QUEUE, SERVICES_QUEUE))
        return self.onboarding

    @staticmethod
    def _wait_for_queue_workers(names: tuple[str, ...], timeout: float = 5.0) -> None:
        """DBOS notices queues registered after launch on its next scan (about a second);
        wait for it, so the first workflows do not sit a second in their queue."""
        wanted = {f"queue-worker-{name}" for name in names}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if wanted <= {t.name for t in threading.enumerate()}:
                return
            time.sleep(0.02)

    def shutdown(self, *, drain_seconds: int = 0) -> None:
        """Stop DBOS. With ``drain_seconds``, first wait (whole seconds: DBOS polls every
        second) for running workflows to end: call it after the ``StopSignal`` was stopped, so
        they unwind at once, and before the sandbox and the database go, so no step writes into
        a closed database or retries against a stopped sandbox."""
        if self._launched:
            DBOS.destroy(destroy_registry=False, workflow_completion_timeout_sec=drain_seconds)
            self._launched = False
