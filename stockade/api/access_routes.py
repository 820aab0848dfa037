"""The access routes: people's credentials in tenant accounts, their ``~/.aws/config``
profiles, and break-glass requests with their approvals.

Handlers are thin calls on ``AccessOperations`` (``engine.access.AccessBroker``), which decides
which API role may get which level, checks approvals, and audits. Who may call each route is in
``stockade.api.access``; a tenant-scoped token (support staff) only reaches its own tenants, and
another tenant's request looks like one that does not exist. The credentials answer carries
``Cache-Control: no-store``; nothing here logs a request or an answer.

Who calls it: ``stockade.api.app.create_app``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import FastAPI, Query, Response

from stockade.api.access_schemas import (
    AccessIn,
    AccessOut,
    AccessRequestIn,
    AccessRequestList,
    AccessRequestOut,
    DenyIn,
    ProfilesOut,
)
from stockade.api.auth import Principal
from stockade.api.routes import Caller, error_responses
from stockade.api.scope import require_tenant, visible_tenants
from stockade.domain.access import AccessLevel, AccessRequest, RequestState
from stockade.domain.tenant import TenantState
from stockade.engine.access import AccessAsk
from stockade.engine.facade import AccessOperations, TenantOperations
from stockade.store.access_requests import not_found

#: every active tenant fits in one profiles answer (a fleet is thousands of tenants)
MAX_PROFILE_TENANTS: Final = 100_000
MAX_REQUESTS_PAGE: Final = 1000


def add_access_routes(app: FastAPI, *, access: AccessOperations, tenants: TenantOperations) -> None:
    """Register the access routes on ``app``."""

    def visible_request(caller: Principal, request_id: str) -> AccessRequest:
        request = access.get_request(request_id)
        if not caller.may_access(request.tenant_id):
            raise not_found(request_id)
        return request

    @app.post(
        "/api/v1/tenants/{tenant_id}/access",
        tags=["access"],
        responses=error_responses(404, 409, 502),
    )
    def issue_access(
        tenant_id: str, body: AccessIn, caller: Caller, response: Response
    ) -> AccessOut:
        """Short-lived credentials in the tenant's account, through the baseline's role for
        ``role`` (readonly: viewers, operators, admins; operator: operators, admins;
        breakglass: the requester of an approved request, once). Audited; never stored."""
        issued = access.issue(
            AccessAsk(
                tenant_id=tenant_id,
                level=body.role,
                reason=body.reason,
                actor=caller.name,
                api_role=caller.role,
                duration_seconds=body.duration_seconds,
                request_id=body.request_id,
            )
        )
        response.headers["Cache-Control"] = "no-store"
        return AccessOut.of(issued)

    @app.get("/api/v1/access/profiles", tags=["access"], responses=error_responses())
    def access_profiles(
        caller: Caller,
        role: Annotated[AccessLevel | None, Query(description="one level (default: all)")] = None,
    ) -> ProfilesOut:
        """A ``~/.aws/config`` profile per active tenant (a scoped token: its tenants) for
        each level the caller may get without approval."""
        visible = visible_tenants(
            tenants,
            caller,
            state=TenantState.ACTIVE,
            tier=None,
            limit=MAX_PROFILE_TENANTS,
            offset=0,
        )
        return ProfilesOut.of(access.profiles(visible, api_role=caller.role, level=role))

    @app.post(
        "/api/v1/access/requests",
        tags=["access"],
        status_code=201,
        responses=error_responses(404, 409),
    )
    def request_access(body: AccessRequestIn, caller: Caller) -> AccessRequestOut:
        """Ask for break-glass access to a tenant; another person with the approver role
        must approve it before it expires."""
        require_tenant(caller, body.tenant)
        return AccessRequestOut.of(
            access.request(
                tenant_id=body.tenant,
                reason=body.reason,
                actor=caller.name,
                api_role=caller.role,
                duration_seconds=body.duration_seconds,
            )
        )

    @app.get("/api/v1/access/requests", tags=["access"], responses=error_responses())
    def list_access_requests(
        caller: Caller,
        state: RequestState | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_REQUESTS_PAGE)] = 100,
    ) -> AccessRequestList:
        """Break-glass requests, newest first (a scoped token: its tenants')."""
        return AccessRequestList.of(
            access.list_requests(state=state, tenants=caller.tenants, limit=limit)
        )

    @app.post(
        "/api/v1/access/requests/{request_id}/approve",
        tags=["access"],
        responses=error_responses(404, 409),
    )
    def approve_access_request(request_id: str, caller: Caller) -> AccessRequestOut:
        """Approve a pending request (never one's own): the requester may then use it once,
        within the request window."""
        visible_request(caller, request_id)
        return AccessRequestOut.of(
            access.approve(request_id, actor=caller.name, api_role=caller.role)
        )

    @app.post(
        "/api/v1/access/requests/{request_id}/deny",
        tags=["access"],
        responses=error_responses(404, 409),
    )
    def deny_access_request(request_id: str, body: DenyIn, caller: Caller) -> AccessRequestOut:
        """Deny a pending request, saying why."""
        visible_request(caller, request_id)
        return AccessRequestOut.of(
            access.deny(request_id, actor=caller.name, api_role=caller.role, reason=body.reason)
        )
