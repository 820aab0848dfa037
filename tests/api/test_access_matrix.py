"""Every route of the OpenAPI document, called by every role, a tenant-scoped token and nobody.

The expected result of each call is written down in ``EXPECTED`` below, by hand: it is not
computed from ``stockade.api.access.ACCESS_RULES``, so a wrong rule fails here. A route added
to the app without a row here fails too (``test_every_documented_route_has_a_row`` and its
parametrized calls), until someone decides who may call it.

``OK`` means "let through": neither 401 nor 403 (nor a 5xx). The handler may still answer
404/409/422 for the made-up ids and minimal bodies used here. Path parameters name a tenant
inside the scoped tokens' scope, so a scoped token is let through wherever its scope allows.
One app serves the whole module, so this runs in a second or two.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from api.fake_access import access_broker
from api.fake_org import explainer
from api.fake_rollouts import FakeRollouts
from api.fake_scans import FakeScans
from api.fakes import FixedPlans, InMemoryTenants, TokenAuthenticator
from api.store_support import store_parts
from stockade.api.access import PUBLIC_ROUTES
from stockade.api.app import create_app
from stockade.domain.tenant import TenantState

OK: Final = "ok"
#: who calls: no token, each role, then the tenant-scoped viewer and operator (scoped to
#: acme and initech)
CALLERS: Final = ("none", "viewer", "operator", "admin", "approver", "support-viewer", "support")
_ = OK  # short, so the table below stays readable
#: (method, path) -> expected answer for each caller, in the order of CALLERS:
#:                                                     none viewer oper admin appr  s-vw  s-op
EXPECTED: Final[dict[tuple[str, str], tuple[int | str, ...]]] = {
    ("GET", "/healthz"):                                (_,   _,   _,   _,   _,   _,   _),
    ("GET", "/metrics"):                                (401, _,   _,   _,   _,   403, 403),
    ("POST", "/api/v1/tenants"):                        (401, 403, _,   _,   403, 403, 403),
    ("GET", "/api/v1/tenants"):                         (401, _,   _,   _,   _,   _,   _),
    ("GET", "/api/v1/tenants/{tenant_id}"):             (401, _,   _,   _,   _,   _,   _),
    ("POST", "/api/v1/tenants/{tenant_id}/retry"):      (401, 403, _,   _,   403, 403, _),
    ("GET", "/api/v1/fleet/summary"):                   (401, _,   _,   _,   _,   403, 403),
    ("POST", "/api/v1/plans"):                          (401, 403, _,   _,   403, 403, 403),
    ("POST", "/api/v1/rollouts"):                       (401, 403, _,   _,   403, 403, 403),
    ("GET", "/api/v1/rollouts"):                        (401, _,   _,   _,   _,   403, 403),
    ("GET", "/api/v1/rollouts/{rollout_id}"):           (401, _,   _,   _,   _,   403, 403),
    ("GET", "/api/v1/rollouts/{rollout_id}/events"):    (401, _,   _,   _,   _,   403, 403),
    ("POST", "/api/v1/rollouts/{rollout_id}/halt"):     (401, 403, _,   _,   403, 403, 403),
    ("POST", "/api/v1/rollouts/{rollout_id}/resume"):   (401, 403, _,   _,   403, 403, 403),
    ("POST", "/api/v1/rollouts/{rollout_id}/rollback"): (401, 403, _,   _,   403, 403, 403),
    ("POST", "/api/v1/policy/explain"):                 (401, _,   _,   _,   _,   _,   _),
    ("POST", "/api/v1/tokens"):                         (401, 403, 403, _,   403, 403, 403),
    ("GET", "/api/v1/tokens"):                          (401, 403, 403, _,   403, 403, 403),
    ("DELETE", "/api/v1/tokens/{token_id}"):            (401, 403, 403, _,   403, 403, 403),
    ("GET", "/api/v1/audit"):                           (401, 403, 403, _,   _,   403, 403),
    ("GET", "/api/v1/audit/verify"):                    (401, 403, 403, _,   _,   403, 403),
    ("POST", "/api/v1/scans/credentials"):              (401, 403, _,   _,   _,   403, _),
    ("POST", "/api/v1/tenants/{tenant_id}/access"):     (401, _,   _,   _,   403, _,   _),
    ("GET", "/api/v1/access/profiles"):                 (401, _,   _,   _,   403, _,   _),
    ("POST", "/api/v1/access/requests"):                (401, 403, _,   _,   403, 403, _),
    ("GET", "/api/v1/access/requests"):                 (401, 403, _,   _,   _,   403, _),
    ("POST", "/api/v1/access/requests/{request_id}/approve"):
                                                        (401, 403, 403, 403, _,   403, 403),
    ("POST", "/api/v1/access/requests/{request_id}/deny"):
                                                        (401, 403, 403, 403, _,   403, 403),
}  # fmt: skip

#: made-up path parameters: a tenant in the scoped tokens' scope, ids that do not exist
PATH_PARAMS: Final = {
    "tenant_id": "acme",
    "rollout_id": "ro-missing",
    "token_id": "tok_missing",
    "request_id": "ar-missing",
}
#: minimal bodies for the routes that need one to get past validation
BODIES: Final[dict[tuple[str, str], dict[str, Any]]] = {
    ("POST", "/api/v1/tenants"): {"id": "matrix", "tier": "pro"},
    ("POST", "/api/v1/policy/explain"): {"tenant": "acme", "action": "s3:GetObject"},
    ("POST", "/api/v1/tokens"): {"name": "matrix", "role": "viewer"},
    ("POST", "/api/v1/tenants/{tenant_id}/access"): {"role": "readonly", "reason": "matrix"},
    ("POST", "/api/v1/access/requests"): {"tenant": "acme", "reason": "matrix"},
    ("POST", "/api/v1/access/requests/{request_id}/deny"): {"reason": "matrix"},
}


def _app_and_routes() -> tuple[Any, list[tuple[str, str]]]:
    directory = Path(tempfile.mkdtemp(prefix="stockade-matrix-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    store = store_parts(directory)
    atexit.register(store.db.dispose)  # registered last: runs before the directory goes
    tenants = InMemoryTenants()
    tenants.put("acme", state=TenantState.FAILED)
    tenants.put("globex", state=TenantState.ACTIVE)
    plans = FixedPlans()
    app = create_app(
        tenants=tenants,
        plans=plans,
        rollouts=FakeRollouts(plans),
        policies=explainer(tenants),
        tokens=store.tokens,
        audit=store.audit,
        scans=FakeScans(),
        access=access_broker(tenants.get_tenant, store),
        auth=TokenAuthenticator(),
        version="matrix",
        poll_interval=0.0,
    )
    schema = app.openapi()
    routes = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    ]
    return app, sorted(routes)


APP, DOCUMENTED = _app_and_routes()


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(APP) as client:
        yield client


def _headers(caller: str) -> dict[str, str]:
    return {} if caller == "none" else {"Authorization": f"Bearer {caller}-token"}


def test_every_documented_route_has_a_row() -> None:
    missing = sorted(set(DOCUMENTED) - set(EXPECTED))
    assert not missing, f"decide who may call these routes and add them to EXPECTED: {missing}"
    gone = sorted(set(EXPECTED) - set(DOCUMENTED))
    assert not gone, f"EXPECTED names routes the app does not have: {gone}"
    assert all(len(row) == len(CALLERS) for row in EXPECTED.values())


def test_public_routes_are_exactly_the_ones_open_to_everyone() -> None:
    open_to_all = {route for route, row in EXPECTED.items() if row[0] == OK}
    assert open_to_all == {route for route in PUBLIC_ROUTES if route in EXPECTED}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", DOCUMENTED, ids=[f"{m} {p}" for m, p in DOCUMENTED])
def test_route_answers_as_the_table_says(
    client: TestClient, route: tuple[str, str], caller: str
) -> None:
    assert route in EXPECTED, f"{route[0]} {route[1]} has no row in EXPECTED: add one"
    expected = EXPECTED[route][CALLERS.index(caller)]
    method, template = route
    path = re.sub(r"\{(\w+)\}", lambda m: PATH_PARAMS[m.group(1)], template)
    response = client.request(method, path, json=BODIES.get(route), headers=_headers(caller))
    status = response.status_code
    if expected == OK:
        assert status not in (401, 403), f"{caller}: {method} {path} -> {status} {response.text}"
        assert status < 500, f"{caller}: {method} {path} -> {status} {response.text}"
    else:
        assert status == expected, f"{caller}: {method} {path} -> {status} {response.text}"
        code = "STK-1400" if expected == 401 else "STK-1410"
        assert response.json()["error"]["code"] == code
