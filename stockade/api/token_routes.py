"""The token routes: issue, list and revoke API tokens (admins only, see ``stockade.api.access``).

Handlers are thin calls on ``TokenOperations`` (``stockade.engine.facade``; the store audits
every issue and revocation). The plaintext of a new token is in the answer to
``POST /api/v1/tokens`` and nowhere else, sent with ``Cache-Control: no-store``; listings never
carry a plaintext or a hash. The tenants of a scoped token must exist when it is issued, so a
typo cannot grant access to a tenant created later under that id.

Who calls it: ``stockade.api.app.create_app``.
"""

from __future__ import annotations

from fastapi import FastAPI, Response

from stockade.api.routes import AUTHENTICATED, Caller, error_responses
from stockade.api.token_schemas import TokenCreate, TokenCreated, TokenList, TokenOut
from stockade.domain.errors import NotFoundError, ValidationError
from stockade.engine.facade import TenantOperations, TokenOperations


def _check_known(tenants: TenantOperations, scope: frozenset[str]) -> None:
    """ValidationError naming every tenant of ``scope`` that does not exist."""
    unknown: list[str] = []
    for tenant_id in sorted(scope):
        try:
            tenants.get_tenant(tenant_id)
        except NotFoundError:
            unknown.append(tenant_id)
    if unknown:
        raise ValidationError(
            "unknown tenant(s): " + ", ".join(repr(t) for t in unknown),
            hint="a token can only be limited to tenants that exist: `stockade tenant list`",
        )


def add_token_routes(app: FastAPI, *, tokens: TokenOperations, tenants: TenantOperations) -> None:
    """Register the token routes on ``app``."""

    @app.post("/api/v1/tokens", tags=["tokens"], status_code=201, responses=error_responses())
    def create_token(body: TokenCreate, caller: Caller, response: Response) -> TokenCreated:
        """Issue a token with a role, optionally limited to some tenants. The answer carries
        the token itself, this once: only its hash is kept."""
        scope = body.scope()
        if scope:  # the store checks the ids' form, the role and the count; here, existence
            _check_known(tenants, scope)
        plaintext, info = tokens.create(body.name, body.role, actor=caller.name, tenants=scope)
        response.headers["Cache-Control"] = "no-store"
        return TokenCreated.issued(plaintext, info)

    @app.get(
        "/api/v1/tokens",
        tags=["tokens"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(),
    )
    def list_tokens() -> TokenList:
        """Every token, revoked ones included, oldest first (never the token itself)."""
        return TokenList.of(tokens.list())

    @app.delete("/api/v1/tokens/{token_id}", tags=["tokens"], responses=error_responses(404))
    def revoke_token(token_id: str, caller: Caller) -> TokenOut:
        """Revoke a token for good; it stops working at once. Revoking it again changes
        nothing."""
        return TokenOut.of(tokens.revoke(token_id, actor=caller.name))
