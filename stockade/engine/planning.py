"""Fleet plans: what the current spec would change in every tenant account, and why.

The plan itself is the pure ``domain.plan.plan_fleet``; this service gathers its inputs in a
handful of queries (tenants, overrides, what Stockade recorded, and the last observed state of
every account) and keeps the observed state fresh: ``observe`` reads one account's managed
stacks (one paginated DescribeStacks) and stores the snapshot. Accounts never observed are read
before planning, so a plan never mistakes "not looked at yet" for "nothing deployed".

The spec is the one on disk now (``spec.source.SpecSource``), so an edited spec is planned
without restarting. Who calls it: the API (``POST /api/v1/plans``) through
``engine.facade.PlanOperations``, ``engine.rollouts`` (apply), tests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from stockade.cloud.ports import CloudPort
from stockade.domain.plan import TenantSnapshot, plan_fleet
from stockade.domain.release import NO_OVERRIDES, Release, build_release
from stockade.domain.stacks import DeployedStack
from stockade.domain.tenant import Tenant, TenantState
from stockade.engine.facade import PlanOutcome
from stockade.engine.guardrails import GuardrailService
from stockade.engine.observe import observe_account
from stockade.spec.source import SpecSource
from stockade.store.deployments import DeploymentRepository
from stockade.store.overrides import OverridesRepository
from stockade.store.releases import ReleaseRepository
from stockade.store.tenants import TenantRepository

#: tenants whose accounts hold deployments a plan covers
PLANNED_STATES = (TenantState.ACTIVE, TenantState.SUSPENDED)


class PlanService:
    def __init__(
        self,
        *,
        tenants: TenantRepository,
        releases: ReleaseRepository,
        overrides: OverridesRepository,
        deployments: DeploymentRepository,
        spec: SpecSource,
        cloud: CloudPort,
        guardrails: GuardrailService,
        readers: int = 8,
    ) -> None:
        self.guardrails = guardrails
        self._tenants = tenants
        self._releases = releases
        self._overrides = overrides
        self._deployments = deployments
        self._spec = spec
        self._cloud = cloud
        self._readers = readers

    def candidate(self) -> Release:
        """The release the spec on disk describes (content-hashed: same files, same id)."""
        loaded = self._spec.current()
        return build_release(loaded.spec, loaded.templates)

    def observe(self, tenant: Tenant) -> list[DeployedStack]:
        """Read the tenant account's managed stacks and store them as its observed state."""
        return observe_account(tenant, self._cloud, self._spec.current().spec, self._deployments)

    def plan(self, *, refresh: bool = False) -> PlanOutcome:
        """Plan every active or suspended tenant against the release of the spec on disk, and the
        organization's SCPs against the spec's guardrails (whose tests must pass)."""
        loaded = self._spec.current()
        guardrails = self.guardrails.plan(loaded)
        release = build_release(loaded.spec, loaded.templates)
        tenants = self._tenants.in_states(PLANNED_STATES)
        observed = self._deployments.observed_all()
        stale = [t for t in tenants if refresh or t.tenant_id not in observed]
        fresh = dict(self._observe_all(stale))
        recorded = self._deployments.recorded_all()
        overrides = self._overrides.overrides_for_all()
        pins = {pin for o in overrides.values() for pin in o.pins.values()}
        snapshots = [
            TenantSnapshot(
                tenant_id=t.tenant_id,
                tier=t.tier,
                deployed=fresh[t.tenant_id]
                if t.tenant_id in fresh
                else observed[t.tenant_id].stacks,
                overrides=overrides.get(t.tenant_id, NO_OVERRIDES),
                recorded=recorded.get(t.tenant_id, []),
            )
            for t in tenants
        ]
        plan = plan_fleet(release, snapshots, self._releases.by_ids(pins))
        return PlanOutcome(plan=plan, observed_now=len(stale), guardrails=guardrails)

    def _observe_all(self, tenants: list[Tenant]) -> list[tuple[str, list[DeployedStack]]]:
        """Read these accounts, a few at a time (each read waits on the rate budget)."""
        if not tenants:
            return []

        def read(tenant: Tenant) -> tuple[str, list[DeployedStack]]:
            return tenant.tenant_id, self.observe(tenant)

        with ThreadPoolExecutor(max_workers=self._readers, thread_name_prefix="observe") as pool:
            return list(pool.map(read, tenants))
