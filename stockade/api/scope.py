"""Tenant-scoped tokens: what a caller limited to some tenants may see, in one place.

A tenant-scoped principal (``Principal.tenants``) sees only its tenants, and a tenant outside
its scope looks exactly like a tenant that does not exist (404, same message), so a scoped
token cannot probe which tenants exist. The access gate (``stockade.api.access``) applies this
to routes with ``{tenant_id}`` in their path; handlers that name a tenant elsewhere (the list,
a request body) call ``require_tenant`` or ``visible_tenants``.

Who calls it: ``stockade.api.access`` (the gate), ``stockade.api.routes`` (tenant list),
``stockade.api.policy_routes`` (explain).
"""

from __future__ import annotations

from datetime import UTC, datetime

from stockade.api.auth import Principal
from stockade.domain.errors import NotFoundError
from stockade.domain.tenant import Tenant, TenantState
from stockade.engine.facade import TenantOperations

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def tenant_not_found(tenant_id: str) -> NotFoundError:
    """The error for an unknown tenant, worded as the tenant store words it."""
    return NotFoundError(
        f"tenant {tenant_id!r} does not exist",
        hint="list tenants with `stockade tenant list`",
    )


def require_tenant(principal: Principal, tenant_id: str) -> None:
    """Raise the unknown-tenant 404 unless ``principal`` may access ``tenant_id``."""
    if not principal.may_access(tenant_id):
        raise tenant_not_found(tenant_id)


def visible_tenants(
    tenants: TenantOperations,
    principal: Principal,
    *,
    state: TenantState | None,
    tier: str | None,
    limit: int,
    offset: int,
) -> list[Tenant]:
    """One page of the tenants ``principal`` may see, filtered and ordered as the store lists
    them (oldest first). A scoped principal's tenants are read one by one (a scope holds at
    most ``store.tokens.MAX_TOKEN_TENANTS``); ids naming no tenant are skipped."""
    if principal.tenants is None:
        return tenants.list_tenants(state=state, tier=tier, limit=limit, offset=offset)
    found: list[Tenant] = []
    for tenant_id in sorted(principal.tenants):
        try:
            tenant = tenants.get_tenant(tenant_id)
        except NotFoundError:
            continue
        if (state is None or tenant.state == state) and (tier is None or tenant.tier == tier):
            found.append(tenant)
    found.sort(key=lambda t: (t.created_at or _EPOCH, t.tenant_id))
    return found[offset : offset + limit]
