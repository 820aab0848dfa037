"""What the rollout engine needs, in one injected object (no global state).

Who calls it: the composition root (``server``) builds it; ``engine.wave_runner``,
``engine.rollout_workflow`` and ``engine.rollouts`` read it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stockade.cloud.ports import CloudPort
from stockade.engine.planning import PlanService
from stockade.engine.tenant_deploy import DeployTarget
from stockade.engine.timing import EngineTiming
from stockade.lifecycle import StopSignal
from stockade.spec.source import SpecSource
from stockade.store.deployments import DeploymentRepository
from stockade.store.overrides import OverridesRepository
from stockade.store.releases import ReleaseRepository
from stockade.store.rollouts import RolloutRepository
from stockade.store.templates import TemplateRepository
from stockade.store.tenants import TenantRepository


@dataclass
class RolloutDeps:
    rollouts: RolloutRepository
    releases: ReleaseRepository
    tenants: TenantRepository
    overrides: OverridesRepository
    deployments: DeploymentRepository
    templates: TemplateRepository
    planner: PlanService
    spec: SpecSource
    cloud: CloudPort
    management_account_id: str
    timing: EngineTiming
    sleep: Callable[[float], None] = time.sleep
    #: stopped when the process stops: a running wave then ends without recording an outcome
    stop: StopSignal = field(default_factory=StopSignal)
    clock: Callable[[], float] = time.monotonic
    #: how long a halt by an operator may take to be noticed by a running wave
    halt_check_interval: float = 0.5

    def target(self) -> DeployTarget:
        """Where deploys go: the deploy role and home region of the running spec."""
        spec = self.spec.current().spec
        return DeployTarget(
            role_name=spec.organization.deploy_role,
            region=spec.home_region,
            management_account_id=self.management_account_id,
        )
