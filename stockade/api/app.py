"""The API application factory: ``create_app`` wires routes, auth, limits, metrics and errors.

No state lives at module level: every dependency (tenant, plan, rollout, policy, token, audit,
access and scan operations, authenticator, version) is passed in, and each app gets its own
metrics registry.
``create_app`` raises ``RuntimeError`` if a route has no access rule, so a misconfigured API
never starts.

Who calls it: ``stockade.server`` (the composition root) and the API/CLI tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from stockade.api.access import AccessGate, check_access_rules
from stockade.api.access_routes import add_access_routes
from stockade.api.audit_routes import add_audit_routes
from stockade.api.auth import Authenticator
from stockade.api.errors import install_error_handlers
from stockade.api.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimit
from stockade.api.metrics import ApiMetrics, MetricsMiddleware
from stockade.api.policy_routes import add_policy_routes
from stockade.api.rollout_routes import DEFAULT_POLL_INTERVAL, add_rollout_routes
from stockade.api.routes import add_routes
from stockade.api.scan_routes import add_scan_routes
from stockade.api.token_routes import add_token_routes
from stockade.engine.facade import (
    AccessOperations,
    AuditOperations,
    PlanOperations,
    PolicyOperations,
    RolloutOperations,
    ScanOperations,
    TenantOperations,
    TokenOperations,
)

_DESCRIPTION = (
    "Control plane for account-per-tenant SaaS on AWS. Every `/api/v1` route and `/metrics` "
    "need `Authorization: Bearer <token>`. Errors always have the shape "
    '`{"error": {"code", "message", "hint"}}`.'
)


def create_app(
    *,
    tenants: TenantOperations,
    plans: PlanOperations,
    rollouts: RolloutOperations,
    policies: PolicyOperations,
    tokens: TokenOperations,
    audit: AuditOperations,
    access: AccessOperations,
    scans: ScanOperations,
    auth: Authenticator,
    version: str,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> FastAPI:
    """Build the Stockade API over the given operations, authenticating bearer tokens with
    ``auth`` (``tokens`` issues and revokes them; ``audit`` is the audit trail; ``access``
    issues people's credentials and runs break-glass requests; ``scans`` runs credential
    scans).
    ``poll_interval`` is how often (seconds) a rollout's event stream reads the rollout again.

    Raises RuntimeError if a route has no access rule; the check runs again when the server
    starts, so routes added to the returned app later are held to the same rule.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_access_rules(app.router.routes)
        yield

    app = FastAPI(
        title="Stockade",
        version=version,
        description=_DESCRIPTION,
        docs_url=None,  # interactive docs would be unauthenticated pages; /openapi.json stays
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    metrics = ApiMetrics()
    add_routes(app, tenants=tenants, plans=plans, metrics=metrics)
    add_rollout_routes(app, rollouts=rollouts, poll_interval=poll_interval)
    add_policy_routes(app, policies=policies)
    add_token_routes(app, tokens=tokens, tenants=tenants)
    add_audit_routes(app, audit=audit)
    add_access_routes(app, access=access, tenants=tenants)
    add_scan_routes(app, scans=scans)
    check_access_rules(app.router.routes)
    # the last added middleware runs first: metrics see everything, auth runs before the body
    # is read, and the body limit protects the JSON parser
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(AccessGate, routes=app.router.routes, authenticator=auth)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
