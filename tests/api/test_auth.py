"""Authentication and authorization of the API: tokens, roles, and the rule table."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from api.fakes import InMemoryTenants, bearer
from stockade.api.access import ACCESS_RULES, PUBLIC_ROUTES, check_access_rules
from stockade.domain.tenant import TenantState

NEW_TENANT = {"id": "acme", "tier": "pro"}


def _assert_error(response_json: object, code: str) -> None:
    assert isinstance(response_json, dict)
    assert set(response_json) == {"error"}
    assert set(response_json["error"]) == {"code", "message", "hint"}
    assert response_json["error"]["code"] == code


def test_missing_token_is_401_with_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/tenants")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    _assert_error(response.json(), "STK-1400")


@pytest.mark.parametrize(
    "header", ["Bearer not-a-token", "Basic dmlld2VyLXRva2Vu", "Bearer", "viewer-token"]
)
def test_bad_or_malformed_token_is_401(client: TestClient, header: str) -> None:
    response = client.get("/api/v1/tenants", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    _assert_error(response.json(), "STK-1400")


def test_token_is_never_echoed(client: TestClient) -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    for path in ("/api/v1/tenants", "/api/v1/tenants/acme", "/metrics"):
        response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
        assert secret not in response.text
        assert all(secret not in value for value in response.headers.values())


def test_viewer_cannot_create(client: TestClient, tenants: InMemoryTenants) -> None:
    response = client.post("/api/v1/tenants", json=NEW_TENANT, headers=bearer("viewer"))
    assert response.status_code == 403
    _assert_error(response.json(), "STK-1410")
    assert "operator" in response.json()["error"]["hint"]
    assert tenants.tenants == {}


def test_auth_is_checked_before_the_body_is_parsed(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tenants",
        content=b"{not json",
        headers={**bearer("viewer"), "Content-Type": "application/json"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_operator_and_admin_can_create(
    client: TestClient, tenants: InMemoryTenants, role: str
) -> None:
    response = client.post("/api/v1/tenants", json=NEW_TENANT, headers=bearer(role))
    assert response.status_code == 201
    assert tenants.actors == [f"{role}@example.com"]


@pytest.mark.parametrize("role", ["viewer", "approver"])
def test_readers_cannot_retry(client: TestClient, tenants: InMemoryTenants, role: str) -> None:
    tenants.put("acme", state=TenantState.FAILED)
    response = client.post("/api/v1/tenants/acme/retry", headers=bearer(role))
    assert response.status_code == 403
    assert tenants.tenants["acme"].state == TenantState.FAILED


@pytest.mark.parametrize("role", ["viewer", "operator", "admin", "approver"])
def test_every_role_can_read(client: TestClient, role: str) -> None:
    for path in ("/api/v1/tenants", "/api/v1/fleet/summary", "/metrics"):
        assert client.get(path, headers=bearer(role)).status_code == 200


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


def test_every_documented_route_rejects_a_missing_token(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            if (method.upper(), path) in PUBLIC_ROUTES:
                continue
            response = client.request(method.upper(), _concrete(path))
            assert response.status_code == 401, f"{method.upper()} {path}"
            assert operations[method].get("security") == [{"bearer": []}], path
            checked += 1
    assert checked == len(ACCESS_RULES)


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_interactive_docs_are_disabled(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_every_app_route_is_public_or_has_a_rule(app: FastAPI) -> None:
    check_access_rules(app.router.routes)  # raises if not


def test_a_route_without_a_rule_stops_the_app_from_starting(app: FastAPI) -> None:
    @app.get("/api/v1/secret-things")
    def secret_things() -> dict[str, str]:
        return {"leak": "yes"}

    with pytest.raises(RuntimeError, match="GET /api/v1/secret-things has no access rule"):
        check_access_rules(app.router.routes)
    with pytest.raises(RuntimeError, match="no access rule"), TestClient(app):
        pass  # the server's start-up (lifespan) runs the same check


def test_a_route_added_late_without_a_rule_is_denied(app: FastAPI) -> None:
    @app.get("/api/v1/secret-things")
    def secret_things() -> dict[str, str]:
        return {"leak": "yes"}

    client = TestClient(app)  # not started: only the request-time gate applies
    assert client.get("/api/v1/secret-things", headers=bearer("admin")).status_code == 403


def test_a_rule_without_a_route_is_reported() -> None:
    routes = [Route("/healthz", lambda request: None, methods=["GET"])]
    with pytest.raises(RuntimeError, match="names no route"):
        check_access_rules(routes)
