"""DBOS lifecycle for one Stockade process: configure, launch, register queues, shut down.

DBOS keeps one instance per process (its own global); this object is the only code that touches
that lifecycle. Pitfalls handled here (see DESIGN.md): ``application_version`` pinned,
``executor_id`` unique and stable, queues registered after launch with ``worker_concurrency``
and a short polling interval.

Who calls it: ``server`` (start and stop), tests and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbos import DBOS, DBOSConfig

from stockade.domain.quotas import QuotaTable
from stockade.engine.onboarding import Onboarding, OnboardingDeps

#: bump when a workflow's step sequence changes incompatibly; in-flight workflows of another
#: version are not recovered by this code
WORKFLOW_VERSION = "stockade-workflows-1"
ONBOARD_QUEUE = "onboard"
CREATE_ACCOUNT_QUEUE = "create-account"


@dataclass(frozen=True)
class RuntimeConfig:
    system_database_url: str
    executor_id: str
    onboard_concurrency: int = 50
    polling_interval: float = 0.1


class EngineRuntime:
    def __init__(self, config: RuntimeConfig, deps: OnboardingDeps, quotas: QuotaTable) -> None:
        self._config = config
        self._deps = deps
        self._quotas = quotas
        self._launched = False
        self.onboarding: Onboarding | None = None

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
        self.onboarding = Onboarding(self._deps)
        DBOS.launch()
        self._launched = True
        in_flight = self._quotas.get("organizations", "CreateAccount").concurrent or 5
        self._deps.queues.create_account = DBOS.register_queue(
            CREATE_ACCOUNT_QUEUE,
            global_concurrency=in_flight,
            worker_concurrency=in_flight,
            polling_interval_sec=self._config.polling_interval,
        )
        self._deps.queues.onboard = DBOS.register_queue(
            ONBOARD_QUEUE,
            worker_concurrency=self._config.onboard_concurrency,
            polling_interval_sec=self._config.polling_interval,
        )
        return self.onboarding

    def shutdown(self) -> None:
        if self._launched:
            DBOS.destroy(destroy_registry=False)
            self._launched = False
