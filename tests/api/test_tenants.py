"""The tenant and fleet routes: shapes, validation, conflicts, filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.fakes import InMemoryTenants, bearer
from stockade.domain.tenant import TenantState

OPERATOR = bearer("operator")
VIEWER = bearer("viewer")

TENANT_KEYS = {
    "id",
    "name",
    "tier",
    "state",
    "labels",
    "account_id",
    "account_email",
    "failure_reason",
    "failed_step",
    "attempt",
    "warnings",
    "created_at",
    "updated_at",
}


def _error(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "hint"}
    assert body["error"]["code"] == code
    return dict(body["error"])


def test_create_returns_201_and_the_tenant(client: TestClient, tenants: InMemoryTenants) -> None:
    response = client.post(
        "/api/v1/tenants",
        json={"id": "acme-corp", "tier": "pro", "name": "Acme Corp", "labels": {"region": "eu"}},
        headers=OPERATOR,
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == TENANT_KEYS
    assert body["id"] == "acme-corp"
    assert body["name"] == "Acme Corp"
    assert body["tier"] == "pro"
    assert body["state"] == "requested"
    assert body["labels"] == {"region": "eu"}
    assert body["attempt"] == 1
    assert body["warnings"] == []
    assert body["created_at"].startswith("2025-01-02T03:04:05")
    assert "acme-corp" in tenants.tenants


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"id": "Acme_Corp", "tier": "pro"}, "DNS-safe slug"),
        ({"id": "acme", "tier": "platinum"}, "unknown tier 'platinum'"),
        ({"id": "acme", "tier": "pro", "labels": {"Bad Key": "x"}}, "label key"),
        ({"tier": "pro"}, "body.id: Field required"),
        ({"id": 7, "tier": "pro"}, "body.id:"),
        ({"id": "acme", "tier": "pro", "owner": "x"}, "body.owner:"),
    ],
)
def test_invalid_create_is_422_and_stores_nothing(
    client: TestClient, tenants: InMemoryTenants, body: dict[str, Any], needle: str
) -> None:
    error = _error(client.post("/api/v1/tenants", json=body, headers=OPERATOR), 422, "STK-1000")
    assert needle in error["message"]
    assert tenants.tenants == {}


def test_unknown_tier_hint_lists_the_tiers(client: TestClient) -> None:
    response = client.post("/api/v1/tenants", json={"id": "a", "tier": "x"}, headers=OPERATOR)
    assert "enterprise, free, pro" in _error(response, 422, "STK-1000")["hint"]


def test_malformed_json_is_422(client: TestClient, tenants: InMemoryTenants) -> None:
    response = client.post(
        "/api/v1/tenants",
        content=b'{"id": "acme", ',
        headers={**OPERATOR, "Content-Type": "application/json"},
    )
    assert "malformed JSON" in _error(response, 422, "STK-1000")["message"]
    assert tenants.tenants == {}


def test_duplicate_is_409_and_keeps_the_original(
    client: TestClient, tenants: InMemoryTenants
) -> None:
    assert (
        client.post(
            "/api/v1/tenants", json={"id": "acme", "tier": "pro"}, headers=OPERATOR
        ).status_code
        == 201
    )
    response = client.post("/api/v1/tenants", json={"id": "acme", "tier": "free"}, headers=OPERATOR)
    _error(response, 409, "STK-1300")
    assert tenants.tenants["acme"].tier == "pro"


def test_oversize_body_is_413(client: TestClient, tenants: InMemoryTenants) -> None:
    huge = {"id": "acme", "tier": "pro", "name": "x" * (70 * 1024)}
    _error(client.post("/api/v1/tenants", json=huge, headers=OPERATOR), 413, "STK-1010")
    assert tenants.tenants == {}


def test_oversize_chunked_body_is_413(client: TestClient, tenants: InMemoryTenants) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": "acme", "tier": "pro", "name": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    response = client.post(
        "/api/v1/tenants",
        content=chunks(),
        headers={**OPERATOR, "Content-Type": "application/json"},
    )
    _error(response, 413, "STK-1010")
    assert tenants.tenants == {}


def test_body_under_the_limit_in_chunks_is_accepted(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": "acme", '
        yield b'"tier": "pro"}'

    response = client.post(
        "/api/v1/tenants",
        content=chunks(),
        headers={**OPERATOR, "Content-Type": "application/json"},
    )
    assert response.status_code == 201


@pytest.fixture
def fleet(tenants: InMemoryTenants) -> InMemoryTenants:
    tenants.put("alpha", tier="free", state=TenantState.ACTIVE)
    tenants.put("bravo", tier="pro", state=TenantState.ACTIVE)
    tenants.put("charlie", tier="pro", state=TenantState.FAILED, failure_reason="quota")
    tenants.put("delta", tier="enterprise", state=TenantState.PROVISIONING)
    return tenants


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "count"}
    assert body["count"] == len(body["items"])
    return [item["id"] for item in body["items"]]


@pytest.mark.usefixtures("fleet")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["alpha", "bravo", "charlie", "delta"]),
        ("?state=active", ["alpha", "bravo"]),
        ("?tier=pro", ["bravo", "charlie"]),
        ("?state=active&tier=pro", ["bravo"]),
        ("?tier=none", []),
        ("?limit=2&offset=1", ["bravo", "charlie"]),
    ],
)
def test_list_filters(client: TestClient, query: str, expected: list[str]) -> None:
    assert _ids(client.get(f"/api/v1/tenants{query}", headers=VIEWER)) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?state=sleeping", "query.state"),
        ("?limit=5001", "query.limit"),
        ("?limit=0", "query.limit"),
        ("?offset=-1", "query.offset"),
    ],
)
def test_list_rejects_bad_queries(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/tenants{query}", headers=VIEWER)
    assert _error(response, 422, "STK-1000")["message"].startswith(f"{field}:")


def test_list_accepts_the_largest_page(client: TestClient) -> None:
    assert client.get("/api/v1/tenants?limit=5000", headers=VIEWER).status_code == 200


@pytest.mark.usefixtures("fleet")
def test_show(client: TestClient) -> None:
    body = client.get("/api/v1/tenants/charlie", headers=VIEWER).json()
    assert set(body) == TENANT_KEYS
    assert body["state"] == "failed"
    assert body["failure_reason"] == "quota"


def test_show_unknown_is_404(client: TestClient) -> None:
    _error(client.get("/api/v1/tenants/nobody", headers=VIEWER), 404, "STK-1200")


@pytest.mark.usefixtures("fleet")
def test_retry_a_failed_tenant(client: TestClient, tenants: InMemoryTenants) -> None:
    response = client.post("/api/v1/tenants/charlie/retry", headers=OPERATOR)
    assert response.status_code == 200
    assert response.json()["state"] == "provisioning"
    assert response.json()["attempt"] == 2
    assert tenants.actors == ["operator@example.com"]


@pytest.mark.usefixtures("fleet")
def test_retry_an_active_tenant_is_409(client: TestClient, tenants: InMemoryTenants) -> None:
    _error(client.post("/api/v1/tenants/alpha/retry", headers=OPERATOR), 409, "STK-1300")
    assert tenants.tenants["alpha"].state == TenantState.ACTIVE


def test_retry_unknown_is_404(client: TestClient) -> None:
    _error(client.post("/api/v1/tenants/nobody/retry", headers=OPERATOR), 404, "STK-1200")


@pytest.mark.usefixtures("fleet")
def test_fleet_summary_counts_every_state(client: TestClient) -> None:
    body = client.get("/api/v1/fleet/summary", headers=VIEWER).json()
    assert body["total"] == 4
    assert body["by_state"] == {
        "requested": 0,
        "provisioning": 1,
        "active": 2,
        "suspended": 0,
        "retiring": 0,
        "closed": 0,
        "failed": 1,
    }
