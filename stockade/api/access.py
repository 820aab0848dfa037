"""Who may call which route: the one rule table, the gate that enforces it, and the start-up check.

``ACCESS_RULES`` maps every protected route (method, path template) to a ``Rule``: the roles
allowed to call it, and what a tenant-scoped token may do there (``ScopedAccess``: nothing, the
``{tenant_id}`` in the path must be one of its tenants, or the handler narrows what it reads).
``PUBLIC_ROUTES`` lists the few routes anyone may call. ``AccessGate`` is an ASGI middleware
that matches the request to a route *before* the body is read, answers 401 (no or bad token),
403 (role not allowed, or a scoped token on a fleet-wide route) or 404 (a tenant outside the
token's scope, worded as for a tenant that does not exist), and hands the principal to the
route through the ASGI scope. ``check_access_rules`` makes ``create_app`` refuse to build an
app with a route that has no rule (or a rule for a route that does not exist), so adding a
route without deciding who may call it fails every test.

Who calls it: ``stockade.api.app`` (installs the gate, runs the check), route handlers (through
``current_principal``), ``stockade.api.middleware`` (reads the matched route template).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from stockade.api.auth import ROLES, Authenticator, Principal, Role
from stockade.api.errors import error_response
from stockade.api.scope import tenant_not_found
from stockade.domain.errors import AuthError, ForbiddenError, StockadeError

#: what a tenant-scoped token may do on a route:
#: - ``denied``: nothing, the route is fleet-wide (403);
#: - ``path``: call it for its own tenants: the path's ``{tenant_id}`` must be one of them, else
#:   404 exactly as for a tenant that does not exist;
#: - ``narrowed``: call it; the handler narrows what it reads to the token's tenants
#:   (``stockade.api.scope``).
ScopedAccess = Literal["denied", "path", "narrowed"]
#: the path parameter a ``path`` rule checks
TENANT_PARAM: Final = "tenant_id"


@dataclass(frozen=True)
class Rule:
    """Who may call one route: roles, and what tenant-scoped tokens of those roles may do."""

    roles: frozenset[Role]
    scoped: ScopedAccess = "denied"


_ANY: Final[frozenset[Role]] = frozenset(ROLES)
_WRITERS: Final[frozenset[Role]] = frozenset({"operator", "admin"})
_ADMIN: Final[frozenset[Role]] = frozenset({"admin"})
#: the audit trail names every actor, tenant and credential issued: admins, and approvers
#: (who review break-glass access)
_AUDITORS: Final[frozenset[Role]] = frozenset({"admin", "approver"})
#: credential scans: who runs the fleet, and who reviews access
_SCANNERS: Final[frozenset[Role]] = frozenset({"operator", "admin", "approver"})
#: people who may get credentials in tenant accounts (which level: ``domain.access``)
_ACCESSORS: Final[frozenset[Role]] = frozenset({"viewer", "operator", "admin"})
#: break-glass requests: operators and admins ask, approvers (only) decide, both list them
_REQUESTERS: Final[frozenset[Role]] = _WRITERS
_APPROVERS: Final[frozenset[Role]] = frozenset({"approver"})

#: (method, path template) -> rule. The single source of truth for authorization.
ACCESS_RULES: Final[Mapping[tuple[str, str], Rule]] = MappingProxyType(
    {
        ("GET", "/metrics"): Rule(_ANY),
        # creating tenants is fleet administration, not support work
        ("POST", "/api/v1/tenants"): Rule(_WRITERS),
        ("GET", "/api/v1/tenants"): Rule(_ANY, scoped="narrowed"),
        ("GET", "/api/v1/tenants/{tenant_id}"): Rule(_ANY, scoped="path"),
        ("POST", "/api/v1/tenants/{tenant_id}/retry"): Rule(_WRITERS, scoped="path"),
        ("GET", "/api/v1/fleet/summary"): Rule(_ANY),
        # a plan changes nothing in AWS, but it may read every account: operators and admins
        ("POST", "/api/v1/plans"): Rule(_WRITERS),
        # apply: stores a release and deploys it to every tenant it changes
        ("POST", "/api/v1/rollouts"): Rule(_WRITERS),
        ("GET", "/api/v1/rollouts"): Rule(_ANY),
        ("GET", "/api/v1/rollouts/{rollout_id}"): Rule(_ANY),
        ("GET", "/api/v1/rollouts/{rollout_id}/events"): Rule(_ANY),
        ("POST", "/api/v1/rollouts/{rollout_id}/halt"): Rule(_WRITERS),
        ("POST", "/api/v1/rollouts/{rollout_id}/resume"): Rule(_WRITERS),
        ("POST", "/api/v1/rollouts/{rollout_id}/rollback"): Rule(_WRITERS),
        # reads the tenant's SCPs from the organization and evaluates locally: changes nothing;
        # a scoped token may ask about its own tenants (the tenant is in the body)
        ("POST", "/api/v1/policy/explain"): Rule(_ANY, scoped="narrowed"),
        ("POST", "/api/v1/tokens"): Rule(_ADMIN),
        ("GET", "/api/v1/tokens"): Rule(_ADMIN),
        ("DELETE", "/api/v1/tokens/{token_id}"): Rule(_ADMIN),
        ("GET", "/api/v1/audit"): Rule(_AUDITORS),
        ("GET", "/api/v1/audit/verify"): Rule(_AUDITORS),
        # a credential scan reads every account's IAM users and keys (many AWS calls, and a
        # map of the fleet's weak spots): operators and admins, and approvers (who review
        # access); a scoped token scans its own tenants only
        ("POST", "/api/v1/scans/credentials"): Rule(_SCANNERS, scoped="narrowed"),
        # credentials in a tenant account: support staff for their own tenants; the level
        # (readonly, operator, approved breakglass) is checked against the role by the broker
        ("POST", "/api/v1/tenants/{tenant_id}/access"): Rule(_ACCESSORS, scoped="path"),
        ("GET", "/api/v1/access/profiles"): Rule(_ACCESSORS, scoped="narrowed"),
        # break-glass: a scoped token asks and sees its own tenants' requests only
        ("POST", "/api/v1/access/requests"): Rule(_REQUESTERS, scoped="narrowed"),
        ("GET", "/api/v1/access/requests"): Rule(_REQUESTERS | _APPROVERS, scoped="narrowed"),
        ("POST", "/api/v1/access/requests/{request_id}/approve"): Rule(
            _APPROVERS, scoped="narrowed"
        ),
        ("POST", "/api/v1/access/requests/{request_id}/deny"): Rule(_APPROVERS, scoped="narrowed"),
    }
)

#: routes that need no token: liveness and the (data-free) API schema
PUBLIC_ROUTES: Final[frozenset[tuple[str, str]]] = frozenset(
    {("GET", "/healthz"), ("GET", "/openapi.json"), ("HEAD", "/openapi.json")}
)

#: the ASGI scope keys the gate fills in for the routes and the metrics middleware
PRINCIPAL_SCOPE_KEY: Final = "stockade.principal"
ROUTE_SCOPE_KEY: Final = "stockade.route"
UNMATCHED_ROUTE: Final = "<unmatched>"

#: declares the bearer scheme in the OpenAPI document; the gate does the actual checking
BEARER_SCHEME: Final = HTTPBearer(
    scheme_name="bearer",
    description="an API token; `stockade up` writes an admin token to .stockade/admin-token",
    auto_error=False,
)

_AUTH_HINT = (
    "send 'Authorization: Bearer <token>'; the CLI reads STOCKADE_TOKEN or .stockade/admin-token"
)


def current_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)],
) -> Principal:
    """FastAPI dependency: the principal the gate authenticated for this request."""
    principal = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if not isinstance(principal, Principal):  # only if the gate is not installed
        raise AuthError("request was not authenticated", hint=_AUTH_HINT)
    return principal


def route_methods(route: BaseRoute) -> frozenset[str]:
    """The HTTP methods a route answers (empty for mounts and websockets)."""
    methods = getattr(route, "methods", None)
    return frozenset(methods) if methods else frozenset()


def check_access_rules(routes: Sequence[BaseRoute]) -> None:
    """Raise RuntimeError unless every route is public or has exactly one rule, and every rule
    names an existing route. Called once by ``create_app``, so a misconfigured app never starts."""
    seen: set[tuple[str, str]] = set()
    problems: list[str] = []
    for route in routes:
        if not isinstance(route, Route):  # APIRoute is a Route; mounts would bypass the gate
            problems.append(f"unsupported route type {type(route).__name__}")
            continue
        for method in sorted(route_methods(route)):
            key = (method, route.path)
            seen.add(key)
            rule = ACCESS_RULES.get(key)
            if key not in PUBLIC_ROUTES and rule is None:
                problems.append(f"{method} {route.path} has no access rule")
            if rule and rule.scoped == "path" and TENANT_PARAM not in route.param_convertors:
                problems.append(f"{method} {route.path} is scoped by path but has no {{tenant_id}}")
    problems.extend(
        f"access rule for {method} {path} names no route"
        for method, path in sorted(set(ACCESS_RULES) - seen)
    )
    if problems:
        raise RuntimeError(
            "API access rules are incomplete (edit stockade/api/access.py): " + "; ".join(problems)
        )


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


class AccessGate:
    """ASGI middleware enforcing ``ACCESS_RULES`` before the request reaches a route."""

    def __init__(
        self, app: ASGIApp, *, routes: Sequence[BaseRoute], authenticator: Authenticator
    ) -> None:
        self.app = app
        self.routes = routes
        self.authenticator = authenticator

    def _match(self, scope: Scope) -> tuple[tuple[str, str], dict[str, Any]] | None:
        """The matched (method, path template) and its path parameters, or None."""
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL and isinstance(route, Route):
                return (scope["method"], route.path), dict(child.get("path_params", {}))
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        matched = self._match(scope)
        scope[ROUTE_SCOPE_KEY] = matched[0][1] if matched else UNMATCHED_ROUTE
        # unknown paths and wrong methods fall through to the router's 404/405
        if matched is not None and matched[0] not in PUBLIC_ROUTES:
            key, params = matched
            token = _bearer_token(scope)
            principal = None
            if token is not None:  # the token store may do I/O: keep it off the event loop
                principal = await run_in_threadpool(self.authenticator.authenticate, token)
            refusal = (
                _refusal(key, params, principal)
                if principal is not None
                else AuthError(
                    "missing bearer token" if token is None else "invalid or expired token",
                    hint=_AUTH_HINT,
                )
            )
            if refusal is not None:
                await error_response(refusal)(scope, receive, send)
                return
            scope[PRINCIPAL_SCOPE_KEY] = principal
        await self.app(scope, receive, send)


def _refusal(
    key: tuple[str, str], params: Mapping[str, Any], principal: Principal
) -> StockadeError | None:
    """Why ``principal`` may not call the route ``key`` with path ``params``, or None."""
    method, path = key
    rule = ACCESS_RULES.get(key)
    allowed = rule.roles if rule is not None else frozenset()  # no rule: nobody
    if rule is None or principal.role not in allowed:
        return ForbiddenError(
            f"role {principal.role!r} may not call {method} {path}",
            hint="allowed roles: " + ", ".join(sorted(allowed) or ["none"]),
        )
    if not principal.scoped or rule.scoped == "narrowed":
        return None
    if rule.scoped == "denied":
        return ForbiddenError(
            f"a tenant-scoped token may not call {method} {path}: the route is fleet-wide",
            hint="use a token that is not limited to tenants",
        )
    tenant_id = str(params.get(TENANT_PARAM, ""))
    return None if principal.may_access(tenant_id) else tenant_not_found(tenant_id)
