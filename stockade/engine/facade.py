"""What the API (and tests) may ask of the engine: the tenant operations, as a Protocol.

``engine.service.TenantService`` implements it over the store and DBOS; the API depends only on
this Protocol, so it can be exercised through a different implementation in tests.

Who calls it: ``api`` (route handlers), ``server`` (wiring), ``bench``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from stockade.domain.plan import FleetPlan
from stockade.domain.tenant import Tenant, TenantRequest, TenantState


@dataclass(frozen=True)
class FleetSummary:
    """Counts by lifecycle state, for /healthz, the progress display and the dashboard."""

    by_state: dict[TenantState, int]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


class TenantOperations(Protocol):
    def known_tiers(self) -> frozenset[str]: ...

    def create_tenant(self, request: TenantRequest, *, actor: str) -> Tenant:
        """Validate, record (state ``requested``) and start onboarding. Raises
        ValidationError (bad id, unknown tier) or ConflictError (duplicate id)."""
        ...

    def get_tenant(self, tenant_id: str) -> Tenant:
        """Raises NotFoundError."""
        ...

    def list_tenants(
        self,
        *,
        state: TenantState | None = None,
        tier: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Tenant]: ...

    def retry_tenant(self, tenant_id: str, *, actor: str) -> Tenant:
        """Resume a failed tenant's onboarding where it stopped. Raises ConflictError if the
        tenant is not failed, NotFoundError if it does not exist."""
        ...

    def summary(self) -> FleetSummary: ...


@dataclass(frozen=True)
class PlanOutcome:
    """A fleet plan, plus how many accounts had to be read from AWS to make it."""

    plan: FleetPlan
    observed_now: int


class PlanOperations(Protocol):
    def plan(self, *, refresh: bool = False) -> PlanOutcome:
        """Plan every active or suspended tenant against the running spec's release.
        ``refresh`` reads every account again instead of using the observed snapshots."""
        ...
