"""The JSON the API accepts and returns, as pydantic models (they also make the OpenAPI schema).

Domain records (``stockade.domain.tenant.Tenant``, ``FleetSummary``) are converted here, once, so
route handlers stay one-liners and the wire format is defined in a single place.

Who calls it: ``stockade.api.routes``; the CLI reads the same JSON (as plain dicts).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stockade.api.guardrail_schemas import GuardrailsOut
from stockade.domain.plan import FleetPlan, StackAction, TenantPlan
from stockade.domain.tenant import Tenant, TenantRequest, TenantState
from stockade.engine.facade import FleetSummary, PlanOutcome


class TenantCreate(BaseModel):
    """Body of ``POST /api/v1/tenants``. Id, tier and label rules are checked by the domain."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="DNS-safe slug, at most 40 characters, e.g. acme-corp")
    tier: str = Field(description="one of the tiers in the fleet spec")
    name: str = Field(default="", description="display name, at most 200 characters")
    labels: dict[str, str] = Field(default_factory=dict)

    def to_request(self) -> TenantRequest:
        return TenantRequest(
            tenant_id=self.id, tier=self.tier, name=self.name, labels=dict(self.labels)
        )


class TenantOut(BaseModel):
    """A tenant as the API shows it."""

    id: str
    name: str
    tier: str
    state: TenantState
    labels: dict[str, str]
    account_id: str | None
    account_email: str | None
    failure_reason: str | None
    failed_step: str | None
    attempt: int
    warnings: list[str]
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, tenant: Tenant) -> TenantOut:
        return cls(
            id=tenant.tenant_id,
            name=tenant.name,
            tier=tenant.tier,
            state=tenant.state,
            labels=dict(tenant.labels),
            account_id=tenant.account_id,
            account_email=tenant.account_email,
            failure_reason=tenant.failure_reason,
            failed_step=tenant.failed_step,
            attempt=tenant.attempt,
            warnings=list(tenant.warnings),
            created_at=tenant.created_at,
            updated_at=tenant.updated_at,
        )


class TenantList(BaseModel):
    """One page of tenants; ``count`` is the number of items in this page."""

    items: list[TenantOut]
    count: int

    @classmethod
    def from_domain(cls, tenants: list[Tenant]) -> TenantList:
        return cls(items=[TenantOut.from_domain(t) for t in tenants], count=len(tenants))


class FleetSummaryOut(BaseModel):
    """Tenant counts by lifecycle state (every state is present, possibly with 0)."""

    total: int
    by_state: dict[TenantState, int]

    @classmethod
    def from_domain(cls, summary: FleetSummary) -> FleetSummaryOut:
        by_state = {state: summary.by_state.get(state, 0) for state in TenantState}
        return cls(total=sum(by_state.values()), by_state=by_state)


class Health(BaseModel):
    status: str = "ok"


class ErrorDetail(BaseModel):
    code: str = Field(examples=["STK-1000"])
    message: str
    hint: str


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: ErrorDetail


class PlanRequest(BaseModel):
    """Body of ``POST /api/v1/plans``."""

    model_config = ConfigDict(extra="forbid")

    refresh: bool = Field(
        default=False, description="read every account again instead of the last observed state"
    )
    include_unchanged: bool = Field(
        default=False, description="also list tenants and stacks the plan leaves as they are"
    )


class StackActionOut(BaseModel):
    stack: str
    action: str
    reason: str
    service: str | None = None
    version: str | None = None
    out_of_band: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, action: StackAction) -> StackActionOut:
        desired, deployed = action.desired, action.deployed
        stack = desired.stack_name if desired else deployed.stack_name if deployed else "?"
        return cls(
            stack=stack,
            action=action.action.value,
            reason=action.reason,
            service=desired.service if desired else deployed.service if deployed else None,
            version=desired.version if desired else None,
            out_of_band=list(action.out_of_band),
        )


class TenantPlanOut(BaseModel):
    id: str
    error: str | None = None
    actions: list[StackActionOut]

    @classmethod
    def of(cls, plan: TenantPlan, *, include_unchanged: bool) -> TenantPlanOut:
        actions = plan.actions if include_unchanged else plan.changes
        return cls(
            id=plan.tenant_id, error=plan.error, actions=[StackActionOut.of(a) for a in actions]
        )


def plan_summary(plan: FleetPlan) -> dict[str, int]:
    """A plan's counts (tenants, changed, failed, and stack actions by kind), without tenants."""
    return {key: value for key, value in plan.summary().items() if isinstance(value, int)}


class PlanOut(BaseModel):
    """A fleet plan: summary counts, then the tenants it changes (or all, if asked)."""

    release_id: str
    summary: dict[str, int]
    observed_now: int = Field(description="accounts read from AWS to make this plan")
    guardrails: GuardrailsOut | None = Field(
        default=None, description="guardrail tests and the SCP changes apply would make"
    )
    tenants: list[TenantPlanOut]

    @classmethod
    def of(cls, outcome: PlanOutcome, *, include_unchanged: bool) -> PlanOut:
        plan: FleetPlan = outcome.plan
        shown = [
            TenantPlanOut.of(t, include_unchanged=include_unchanged)
            for t in plan.tenants
            if include_unchanged or t.changes or t.error
        ]
        return cls(
            release_id=plan.release_id,
            summary=plan_summary(plan),
            observed_now=outcome.observed_now,
            guardrails=GuardrailsOut.of(outcome.guardrails),
            tenants=shown,
        )
