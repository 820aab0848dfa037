"""``TenantService``: the engine's implementation of ``engine.facade.TenantOperations``.

Records the tenant first, then enqueues its onboarding workflow under a stable workflow id, so
an enqueue repeated after a crash is a no-op; ``resume_pending`` (at start and periodically)
re-enqueues any tenant left between the two. Who calls it: ``api`` (through the facade),
``server`` (demo fleet, periodic resume), tests and benchmarks.
"""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID, WorkflowStatusString

from stockade.domain.errors import StoreError
from stockade.domain.spec import FleetSpec
from stockade.domain.tenant import ONBOARDING_STATES, Tenant, TenantRequest, TenantState
from stockade.engine.facade import FleetSummary
from stockade.engine.onboarding import Onboarding
from stockade.store.tenants import TenantRepository

_DEAD = frozenset(
    {
        WorkflowStatusString.ERROR.value,
        WorkflowStatusString.CANCELLED.value,
        WorkflowStatusString.MAX_RECOVERY_ATTEMPTS_EXCEEDED.value,
    }
)


class TenantService:
    def __init__(self, *, repo: TenantRepository, spec: FleetSpec, onboarding: Onboarding) -> None:
        self._repo = repo
        self._spec = spec
        self._onboarding = onboarding

    def known_tiers(self) -> frozenset[str]:
        return self._spec.tier_names()

    def create_tenant(self, request: TenantRequest, *, actor: str) -> Tenant:
        request.validate(self.known_tiers())
        tenant = self._repo.create(
            request, email=self._spec.naming.email(request.tenant_id), actor=actor
        )
        self._start(tenant)
        return tenant

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._repo.get(tenant_id)

    def list_tenants(
        self,
        *,
        state: TenantState | None = None,
        tier: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Tenant]:
        return self._repo.list(state=state, tier=tier, limit=limit, offset=offset)

    def retry_tenant(self, tenant_id: str, *, actor: str) -> Tenant:
        tenant = self._repo.retry(tenant_id, actor=actor)
        self._start(tenant)
        return tenant

    def summary(self) -> FleetSummary:
        return FleetSummary(by_state=self._repo.count_by_state())

    def resume_pending(self) -> int:
        """Make sure every tenant being onboarded has a live workflow; return how many were
        looked at. A tenant whose workflow died without recording an outcome (it could not
        even mark the tenant failed) is marked failed now, so `retry` can resume it."""
        pending = self._repo.in_states(ONBOARDING_STATES)
        for tenant in pending:
            dead = self._dead_workflow(tenant)
            if dead is None:
                self._start(tenant)
            else:
                self._repo.transition(
                    tenant.tenant_id,
                    TenantState.FAILED,
                    actor="engine",
                    reason=f"the onboarding workflow {dead} ended without an outcome",
                    failed_step="workflow",
                )
        return len(pending)

    @staticmethod
    def _dead_workflow(tenant: Tenant) -> str | None:
        """The id of this attempt's workflow that ended in error or was cancelled, if any."""
        for workflow_id in (tenant.workflow_id, tenant.baseline_workflow_id):
            status = DBOS.get_workflow_status(workflow_id)
            if status is not None and status.status in _DEAD:
                return workflow_id
        return None

    def _start(self, tenant: Tenant) -> None:
        queue = self._onboarding.deps.queues.account
        if queue is None:
            raise StoreError("the engine is not running", hint="start it with `stockade up`")
        with SetWorkflowID(tenant.workflow_id):
            queue.enqueue(self._onboarding.onboard, tenant.tenant_id)
