"""In-memory implementations of the API's ports, for the API and CLI tests.

``InMemoryTenants`` implements ``TenantOperations`` with the domain's own validation and
lifecycle rules (so "nothing stored" on a bad request is observable); ``FixedPlans`` returns a
real plan given up front; ``FakeRollouts`` implements ``RolloutOperations`` with the store's
state machines and the domain's wave planning, moving only when a test (or a read) steps it;
``TokenAuthenticator`` maps fixed tokens to principals, one per role plus two tenant-scoped ones.
None mocks internals of the API.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from stockade.api.auth import ROLES, Authenticator, Principal
from stockade.domain.errors import ConflictError, NotFoundError
from stockade.domain.plan import FleetPlan, TenantSnapshot, plan_fleet
from stockade.domain.release import build_release
from stockade.domain.stacks import DeployedStack, desired_stacks, stack_tags
from stockade.domain.tenant import Tenant, TenantRequest, TenantState, check_transition
from stockade.engine.facade import FleetSummary, PlanOutcome
from stockade.scaffold import example_spec_path
from stockade.spec.loader import load_spec

TIERS = frozenset({"free", "pro", "enterprise"})
#: the tenants the scoped test tokens are limited to
SUPPORT_TENANTS = frozenset({"acme", "initech"})
#: one token per role: "viewer-token", "operator-token", ...; and two tenant-scoped ones
TOKENS = {
    **{f"{role}-token": Principal(name=f"{role}@example.com", role=role) for role in ROLES},
    "support-token": Principal("support@example.com", "operator", tenants=SUPPORT_TENANTS),
    "support-viewer-token": Principal("helpdesk@example.com", "viewer", tenants=SUPPORT_TENANTS),
}


def bearer(role: str) -> dict[str, str]:
    """The Authorization header of the test token for ``role`` (or ``support``,
    ``support-viewer``: the tenant-scoped ones)."""
    return {"Authorization": f"Bearer {role}-token"}


class TokenAuthenticator:
    """The fixed ``TOKENS``; other tokens go to ``fallback`` (e.g. the real token store)."""

    def __init__(
        self, tokens: dict[str, Principal] | None = None, fallback: Authenticator | None = None
    ) -> None:
        self.tokens = dict(TOKENS if tokens is None else tokens)
        self.fallback = fallback
        self.seen: list[str] = []

    def authenticate(self, token: str) -> Principal | None:
        self.seen.append(token)
        found = self.tokens.get(token)
        if found is None and self.fallback is not None:
            return self.fallback.authenticate(token)
        return found


class InMemoryTenants:
    """TenantOperations over a dict. ``script`` lists the states a tenant moves through, one per
    ``get_tenant`` call, to simulate onboarding progress for ``--wait``."""

    def __init__(self, tiers: frozenset[str] = TIERS) -> None:
        self.tiers = tiers
        self.tenants: dict[str, Tenant] = {}
        self.actors: list[str] = []
        self.script: dict[str, list[tuple[TenantState, dict[str, Any]]]] = {}

    def known_tiers(self) -> frozenset[str]:
        return self.tiers

    def create_tenant(self, request: TenantRequest, *, actor: str) -> Tenant:
        request.validate(self.tiers)
        if request.tenant_id in self.tenants:
            raise ConflictError(
                f"tenant {request.tenant_id!r} already exists", hint="pick another id"
            )
        now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
        tenant = Tenant(
            tenant_id=request.tenant_id,
            name=request.name,
            tier=request.tier,
            state=TenantState.REQUESTED,
            labels=dict(request.labels),
            created_at=now,
            updated_at=now,
        )
        self.tenants[tenant.tenant_id] = tenant
        self.actors.append(actor)
        return tenant

    def get_tenant(self, tenant_id: str) -> Tenant:
        tenant = self._find(tenant_id)
        steps = self.script.get(tenant_id)
        if steps:
            state, changes = steps.pop(0)
            tenant = self.tenants[tenant_id] = replace(tenant, state=state, **changes)
        return tenant

    def _find(self, tenant_id: str) -> Tenant:
        try:
            return self.tenants[tenant_id]
        except KeyError:
            raise NotFoundError(
                f"tenant {tenant_id!r} does not exist",
                hint="list tenants with `stockade tenant list`",
            ) from None

    def list_tenants(
        self,
        *,
        state: TenantState | None = None,
        tier: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Tenant]:
        found = [
            t
            for _, t in sorted(self.tenants.items())
            if (state is None or t.state == state) and (tier is None or t.tier == tier)
        ]
        return found[offset : offset + limit]

    def retry_tenant(self, tenant_id: str, *, actor: str) -> Tenant:
        tenant = self._find(tenant_id)
        if tenant.state != TenantState.FAILED:
            raise ConflictError(
                f"tenant {tenant_id!r} is {tenant.state.value}, not failed",
                hint="only failed tenants can be retried",
            )
        check_transition(tenant_id, tenant.state, TenantState.PROVISIONING)
        retried = replace(
            tenant,
            state=TenantState.PROVISIONING,
            attempt=tenant.attempt + 1,
            failure_reason=None,
            failed_step=None,
        )
        self.tenants[tenant_id] = retried
        self.actors.append(actor)
        return retried

    def summary(self) -> FleetSummary:
        return FleetSummary(by_state=dict(Counter(t.state for t in self.tenants.values())))

    # --- test helpers -------------------------------------------------------------------

    def put(
        self, tenant_id: str, *, tier: str = "pro", state: TenantState, **changes: Any
    ) -> Tenant:
        tenant = Tenant(tenant_id=tenant_id, name="", tier=tier, state=state)
        tenant = replace(tenant, **changes)
        self.tenants[tenant_id] = tenant
        return tenant

    def then(self, tenant_id: str, *states: TenantState, **changes: Any) -> None:
        """Make the next ``get_tenant`` calls (after the tenant is created or retried) move it
        through ``states``, in order; the last one also applies ``changes``."""
        steps: list[tuple[TenantState, dict[str, Any]]] = [(s, {}) for s in states]
        if steps:
            steps[-1] = (states[-1], changes)
        self.script[tenant_id] = steps


class FixedPlans:
    """``PlanOperations`` returning a plan given up front; records the ``refresh`` flags."""

    def __init__(self, plan: FleetPlan | None = None) -> None:
        self.fleet_plan = plan or example_plan()
        self.refreshes: list[bool] = []

    def plan(self, *, refresh: bool = False) -> PlanOutcome:
        self.refreshes.append(refresh)
        return PlanOutcome(plan=self.fleet_plan, observed_now=0)


def example_plan() -> FleetPlan:
    """A real plan: the packaged example spec against two tenants, one with nothing deployed
    (everything is created) and one where the plan finds nothing to do."""
    return plan_of(fresh=("fresh",), steady=("steady",))


def fleet_plan(changed: int, steady: int = 1) -> FleetPlan:
    """Like ``example_plan`` with ``changed`` tenants with nothing deployed (``t-01``,
    ``t-02``, ...) and ``steady`` tenants (``s-01``, ...) with nothing to do."""
    return plan_of(
        fresh=tuple(f"t-{n:02d}" for n in range(1, changed + 1)),
        steady=tuple(f"s-{n:02d}" for n in range(1, steady + 1)),
    )


@functools.cache
def plan_of(*, fresh: tuple[str, ...], steady: tuple[str, ...]) -> FleetPlan:
    """The example spec planned for ``fresh`` tenants (nothing deployed: everything is
    created) and ``steady`` ones (everything deployed: nothing to do), all of tier free."""
    spec = load_spec(example_spec_path())
    release = build_release(spec.spec, spec.templates)
    desired = desired_stacks(release, "free")
    snapshots = [TenantSnapshot(tenant_id=t, tier="free", deployed=()) for t in fresh]
    for tenant_id in steady:
        deployed = [
            DeployedStack.from_tags(d.stack_name, "CREATE_COMPLETE", stack_tags(tenant_id, d))
            for d in desired
        ]
        snapshots.append(TenantSnapshot(tenant_id=tenant_id, tier="free", deployed=deployed))
    return plan_fleet(release, snapshots)


#: the fake's waves: one canary tenant of five, then the rest two at a time; no failure tolerated
