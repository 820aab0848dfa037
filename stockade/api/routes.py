"""The API's routes: health, metrics, tenants, fleet summary and plans, registered on an app.

Handlers are thin: they convert the request to a domain call on ``TenantOperations`` and the
result to ``stockade.api.schemas``; errors are ``StockadeError``s turned into the error shape by
``stockade.api.errors``. Who may call what is decided by ``stockade.api.access`` (every route
added here must have a rule there, or ``create_app`` refuses to build the app).

Who calls it: ``stockade.api.app.create_app``; the other route modules (``rollout_routes``,
``policy_routes``, ``token_routes``, ``audit_routes``) share ``Caller``, ``AUTHENTICATED`` and
``error_responses``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Query, Response

from stockade.api.access import current_principal
from stockade.api.auth import Principal
from stockade.api.metrics import ApiMetrics
from stockade.api.schemas import (
    ErrorBody,
    FleetSummaryOut,
    Health,
    PlanOut,
    PlanRequest,
    TenantCreate,
    TenantList,
    TenantOut,
)
from stockade.api.scope import visible_tenants
from stockade.domain.tenant import TenantState
from stockade.engine.facade import PlanOperations, TenantOperations

#: the largest page ``GET /api/v1/tenants`` returns
MAX_PAGE = 5000

#: a handler parameter receiving the authenticated caller (and declaring the bearer scheme)
Caller = Annotated[Principal, Depends(current_principal)]
#: for routes that need a caller but not its identity
AUTHENTICATED: Final = Depends(current_principal)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses a route can give."""
    return {status: {"model": ErrorBody} for status in (401, 403, 422, *statuses)}


def add_routes(
    app: FastAPI, *, tenants: TenantOperations, plans: PlanOperations, metrics: ApiMetrics
) -> None:
    """Register every route on ``app``."""

    @app.get("/healthz", tags=["ops"])
    def healthz() -> Health:
        """Liveness only: no fleet data without a token."""
        return Health()

    @app.get(
        "/metrics",
        tags=["ops"],
        dependencies=[AUTHENTICATED],
        response_class=Response,
        responses={200: {"content": {metrics.content_type: {}}}, **error_responses()},
    )
    def prometheus_metrics() -> Response:
        """Request counts and latency of this API, in the Prometheus text format."""
        return Response(content=metrics.render(), media_type=metrics.content_type)

    @app.post(
        "/api/v1/tenants", status_code=201, tags=["tenants"], responses=error_responses(409, 413)
    )
    def create_tenant(body: TenantCreate, caller: Caller) -> TenantOut:
        """Record a tenant (state ``requested``) and start onboarding it."""
        return TenantOut.from_domain(tenants.create_tenant(body.to_request(), actor=caller.name))

    @app.get("/api/v1/tenants", tags=["tenants"], responses=error_responses())
    def list_tenants(
        caller: Caller,
        state: TenantState | None = None,
        tier: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> TenantList:
        """Tenants, optionally filtered by state and tier, one page at a time (a
        tenant-scoped token sees only its own tenants)."""
        found = visible_tenants(tenants, caller, state=state, tier=tier, limit=limit, offset=offset)
        return TenantList.from_domain(found)

    @app.get(
        "/api/v1/tenants/{tenant_id}",
        tags=["tenants"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(404),
    )
    def get_tenant(tenant_id: str) -> TenantOut:
        return TenantOut.from_domain(tenants.get_tenant(tenant_id))

    @app.post(
        "/api/v1/tenants/{tenant_id}/retry", tags=["tenants"], responses=error_responses(404, 409)
    )
    def retry_tenant(tenant_id: str, caller: Caller) -> TenantOut:
        """Resume a failed tenant's onboarding where it stopped."""
        return TenantOut.from_domain(tenants.retry_tenant(tenant_id, actor=caller.name))

    @app.get(
        "/api/v1/fleet/summary",
        tags=["fleet"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(),
    )
    def fleet_summary() -> FleetSummaryOut:
        """Tenant counts by lifecycle state."""
        return FleetSummaryOut.from_domain(tenants.summary())

    @app.post(
        "/api/v1/plans",
        tags=["deployments"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(),
    )
    def create_plan(body: PlanRequest | None = None) -> PlanOut:
        """What the running spec would change in every active or suspended tenant, and why.
        Changes nothing in AWS; reads accounts never observed before (or all, with refresh)."""
        request = body or PlanRequest()
        outcome = plans.plan(refresh=request.refresh)
        return PlanOut.of(outcome, include_unchanged=request.include_unchanged)
