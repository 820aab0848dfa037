"""The policy routes: ``POST /api/v1/policy/explain`` (would this call be allowed in tenant X?).

The handler is a thin call on ``PolicyOperations`` (``stockade.engine.facade``); a bad policy or
principal is a 422, an unknown tenant a 404. Who may call it is decided by ``stockade.api.access``;
a tenant-scoped token may ask only about its own tenants (others are 404, as if unknown).

Who calls it: ``stockade.api.app.create_app``.
"""

from __future__ import annotations

from fastapi import FastAPI

from stockade.api.policy_schemas import ExplainIn, ExplainOut
from stockade.api.routes import Caller, error_responses
from stockade.api.scope import require_tenant
from stockade.engine.facade import PolicyOperations


def add_policy_routes(app: FastAPI, *, policies: PolicyOperations) -> None:
    """Register the policy routes on ``app``."""

    @app.post("/api/v1/policy/explain", tags=["policy"], responses=error_responses(404, 409))
    def explain(body: ExplainIn, caller: Caller) -> ExplainOut:
        """Evaluate one request in the tenant's account under the SCPs the organization applies
        to it now (root, each OU, the account), plus the given identity policies (none: an
        administrator). Says allow, explicit_deny or implicit_deny, and which statements
        decided."""
        require_tenant(caller, body.tenant)
        return ExplainOut.of(policies.explain(body.to_request()))
