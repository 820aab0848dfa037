"""Who may call which route: the one rule table, the gate that enforces it, and the start-up check.

``ACCESS_RULES`` maps every protected route (method, path template) to the roles allowed to call
it; ``PUBLIC_ROUTES`` lists the few routes anyone may call. ``AccessGate`` is an ASGI middleware
that matches the request to a route *before* the body is read, answers 401 (no or bad token) or
403 (role not allowed), and hands the principal to the route through the ASGI scope.
``check_access_rules`` makes ``create_app`` refuse to build an app with a route that has no rule
(or a rule for a route that does not exist), so adding a route without deciding who may call it
fails every test.

Who calls it: ``stockade.api.app`` (installs the gate, runs the check), route handlers (through
``current_principal``), ``stockade.api.middleware`` (reads the matched route template).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Final

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from stockade.api.auth import ROLES, Authenticator, Principal, Role
from stockade.api.errors import error_response
from stockade.domain.errors import AuthError, ForbiddenError

_ANY: Final[frozenset[Role]] = frozenset(ROLES)
_WRITERS: Final[frozenset[Role]] = frozenset({"operator", "admin"})

#: (method, path template) -> roles allowed. The single source of truth for authorization.
ACCESS_RULES: Final[Mapping[tuple[str, str], frozenset[Role]]] = MappingProxyType(
    {
        ("GET", "/metrics"): _ANY,
        ("POST", "/api/v1/tenants"): _WRITERS,
        ("GET", "/api/v1/tenants"): _ANY,
        ("GET", "/api/v1/tenants/{tenant_id}"): _ANY,
        ("POST", "/api/v1/tenants/{tenant_id}/retry"): _WRITERS,
        ("GET", "/api/v1/fleet/summary"): _ANY,
        # a plan changes nothing in AWS, but it may read every account: operators and admins
        ("POST", "/api/v1/plans"): _WRITERS,
        # apply: stores a release and deploys it to every tenant it changes
        ("POST", "/api/v1/rollouts"): _WRITERS,
        ("GET", "/api/v1/rollouts"): _ANY,
        ("GET", "/api/v1/rollouts/{rollout_id}"): _ANY,
        ("GET", "/api/v1/rollouts/{rollout_id}/events"): _ANY,
        ("POST", "/api/v1/rollouts/{rollout_id}/halt"): _WRITERS,
        ("POST", "/api/v1/rollouts/{rollout_id}/resume"): _WRITERS,
        ("POST", "/api/v1/rollouts/{rollout_id}/rollback"): _WRITERS,
        # reads the tenant's SCPs from the organization and evaluates locally: changes nothing
        ("POST", "/api/v1/policy/explain"): _ANY,
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
            if key not in PUBLIC_ROUTES and key not in ACCESS_RULES:
                problems.append(f"{method} {route.path} has no access rule")
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

    def _match(self, scope: Scope) -> tuple[str, str] | None:
        for route in self.routes:
            match, _child = route.matches(scope)
            if match is Match.FULL and isinstance(route, Route):
                return scope["method"], route.path
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        matched = self._match(scope)
        scope[ROUTE_SCOPE_KEY] = matched[1] if matched else UNMATCHED_ROUTE
        # unknown paths and wrong methods fall through to the router's 404/405
        if matched is not None and matched not in PUBLIC_ROUTES:
            allowed = ACCESS_RULES.get(matched, frozenset())  # no rule: nobody
            token = _bearer_token(scope)
            principal = None
            if token is not None:  # the token store may do I/O: keep it off the event loop
                principal = await run_in_threadpool(self.authenticator.authenticate, token)
            if principal is None:
                error: AuthError = AuthError(
                    "missing bearer token" if token is None else "invalid or expired token",
                    hint=_AUTH_HINT,
                )
                await error_response(error)(scope, receive, send)
                return
            if principal.role not in allowed:
                forbidden = ForbiddenError(
                    f"role {principal.role!r} may not call {matched[0]} {matched[1]}",
                    hint="allowed roles: " + ", ".join(sorted(allowed) or ["none"]),
                )
                await error_response(forbidden)(scope, receive, send)
                return
            scope[PRINCIPAL_SCOPE_KEY] = principal
        await self.app(scope, receive, send)
