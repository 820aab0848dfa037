"""Tenant-scoped tokens (support staff): they see and act on their tenants only.

The fixed ``support`` (operator) and ``support-viewer`` tokens are limited to acme and
initech; globex exists but is outside their scope. A tenant outside the scope must look exactly
like one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.fakes import InMemoryTenants, bearer
from stockade.domain.tenant import TenantState


@pytest.fixture(autouse=True)
def fleet(tenants: InMemoryTenants) -> None:
    for day, (tenant_id, tier, state) in enumerate(
        [
            ("initech", "pro", TenantState.ACTIVE),
            ("acme", "free", TenantState.FAILED),
            ("globex", "pro", TenantState.FAILED),
        ],
        start=1,
    ):
        tenants.put(
            tenant_id,
            tier=tier,
            state=state,
            account_id=f"{day:012d}",
            created_at=datetime(2025, 1, day, tzinfo=UTC),
        )


def _ids(response: object) -> list[str]:
    return [item["id"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_a_scoped_token_lists_only_its_tenants(client: TestClient) -> None:
    """Oldest first, as the store lists tenants."""
    support = bearer("support")
    assert _ids(client.get("/api/v1/tenants", headers=support)) == ["initech", "acme"]
    everyone = _ids(client.get("/api/v1/tenants", headers=bearer("viewer")))
    assert sorted(everyone) == ["acme", "globex", "initech"]
    assert _ids(client.get("/api/v1/tenants?state=failed", headers=support)) == ["acme"]
    assert _ids(client.get("/api/v1/tenants?tier=pro", headers=support)) == ["initech"]
    assert _ids(client.get("/api/v1/tenants?limit=1&offset=1", headers=support)) == ["acme"]
    assert client.get("/api/v1/tenants?offset=5", headers=support).json()["count"] == 0


def test_a_scope_naming_a_tenant_that_does_not_exist_lists_nothing_for_it(
    client: TestClient, tenants: InMemoryTenants
) -> None:
    del tenants.tenants["initech"]
    assert _ids(client.get("/api/v1/tenants", headers=bearer("support"))) == ["acme"]


@pytest.mark.parametrize("caller", ["support", "support-viewer"])
def test_a_tenant_outside_the_scope_looks_like_no_tenant_at_all(
    client: TestClient, tenants: InMemoryTenants, caller: str
) -> None:
    assert client.get("/api/v1/tenants/acme", headers=bearer(caller)).status_code == 200
    hidden = client.get("/api/v1/tenants/globex", headers=bearer(caller))
    del tenants.tenants["globex"]
    missing = client.get("/api/v1/tenants/globex", headers=bearer("admin"))
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json() == missing.json()
    assert hidden.headers.get("content-length") == missing.headers.get("content-length")


def test_a_scoped_operator_retries_its_tenants_only(
    client: TestClient, tenants: InMemoryTenants
) -> None:
    mine = client.post("/api/v1/tenants/acme/retry", headers=bearer("support"))
    assert mine.status_code == 200, mine.text
    assert tenants.tenants["acme"].state == TenantState.PROVISIONING
    assert tenants.actors == ["support@example.com"]
    other = client.post("/api/v1/tenants/globex/retry", headers=bearer("support"))
    assert other.status_code == 404
    assert tenants.tenants["globex"].state == TenantState.FAILED


def test_a_scoped_viewer_still_cannot_retry(client: TestClient) -> None:
    response = client.post("/api/v1/tenants/acme/retry", headers=bearer("support-viewer"))
    assert response.status_code == 403
    assert "role 'viewer'" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/fleet/summary"),
        ("GET", "/api/v1/rollouts"),
        ("POST", "/api/v1/plans"),
        ("POST", "/api/v1/rollouts"),
    ],
)
def test_fleet_wide_routes_refuse_scoped_tokens(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers=bearer("support"))
    assert response.status_code == 403
    error = response.json()["error"]
    assert "tenant-scoped" in error["message"] and "fleet-wide" in error["message"]


def test_policy_explain_only_for_its_tenants(client: TestClient) -> None:
    body = {"action": "organizations:LeaveOrganization"}
    mine = client.post(
        "/api/v1/policy/explain", json={**body, "tenant": "acme"}, headers=bearer("support")
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["decision"] == "explicit_deny"
    other = client.post(
        "/api/v1/policy/explain", json={**body, "tenant": "globex"}, headers=bearer("support")
    )
    unknown = client.post(
        "/api/v1/policy/explain", json={**body, "tenant": "nobody"}, headers=bearer("support")
    )
    assert (other.status_code, unknown.status_code) == (404, 404)
    assert other.json()["error"]["message"] == "tenant 'globex' does not exist"
    assert other.json()["error"]["hint"] == unknown.json()["error"]["hint"]


def test_a_scoped_token_issued_through_the_api_is_enforced(client: TestClient) -> None:
    issued = client.post(
        "/api/v1/tokens",
        json={"name": "helpdesk", "role": "operator", "tenants": ["acme"]},
        headers=bearer("admin"),
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["tenants"] == ["acme"]
    headers = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert _ids(client.get("/api/v1/tenants", headers=headers)) == ["acme"]
    assert client.get("/api/v1/tenants/initech", headers=headers).status_code == 404
    assert client.post("/api/v1/tenants/acme/retry", headers=headers).status_code == 200
    assert client.get("/api/v1/fleet/summary", headers=headers).status_code == 403
    assert client.get("/api/v1/tokens", headers=headers).status_code == 403
