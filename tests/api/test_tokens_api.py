"""The token routes: issue (the token shown once), list (never a secret), revoke; all audited."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.fakes import InMemoryTenants, bearer
from stockade.domain.tenant import TenantState
from stockade.store import AuditLog, TokenStore
from stockade.store.tokens import hash_token

ADMIN = bearer("admin")


def _issue(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tokens", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    document: dict[str, Any] = response.json()
    return document


def test_a_new_token_is_shown_once_and_works_with_its_role(client: TestClient) -> None:
    issued = _issue(client, name="ci bot", role="viewer")
    assert issued["token"].startswith("stk_")
    assert issued["id"].startswith("tok_")
    assert (issued["name"], issued["role"], issued["tenants"], issued["active"]) == (
        "ci bot",
        "viewer",
        None,
        True,
    )
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/tenants", headers=headers).status_code == 200
    created = client.post("/api/v1/tenants", json={"id": "x", "tier": "pro"}, headers=headers)
    assert created.status_code == 403


def test_listing_never_shows_a_token_or_its_hash(client: TestClient) -> None:
    issued = _issue(client, name="laptop", role="operator")
    response = client.get("/api/v1/tokens", headers=ADMIN)
    assert response.status_code == 200
    document = response.json()
    assert document["count"] == 1
    [item] = document["items"]
    assert item["id"] == issued["id"]
    assert "token" not in item
    assert issued["token"].removeprefix("stk_") not in response.text
    assert hash_token(issued["token"]) not in response.text


def test_revoking_stops_the_token_at_once(client: TestClient, audit: AuditLog) -> None:
    issued = _issue(client, name="leaked", role="operator")
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/tenants", headers=headers).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{issued['id']}", headers=ADMIN)
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"]
    assert client.get("/api/v1/tenants", headers=headers).status_code == 401
    events = audit.count()
    again = client.delete(f"/api/v1/tokens/{issued['id']}", headers=ADMIN)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert audit.count() == events  # nothing changed, nothing recorded


def test_revoking_an_unknown_token_is_404(client: TestClient) -> None:
    response = client.delete("/api/v1/tokens/tok_nope", headers=ADMIN)
    assert response.status_code == 404
    assert "tok_nope" in response.json()["error"]["message"]


def test_issue_and_revoke_are_in_the_audit_trail_without_secrets(
    client: TestClient, audit: AuditLog
) -> None:
    issued = _issue(client, name="support", role="viewer")
    client.delete(f"/api/v1/tokens/{issued['id']}", headers=ADMIN)
    trail = client.get("/api/v1/audit", headers=ADMIN)
    assert trail.status_code == 200
    events = [(e["actor"], e["action"], e["subject"]) for e in trail.json()["items"]]
    assert events == [
        ("admin@example.com", "token.revoke", issued["id"]),
        ("admin@example.com", "token.create", issued["id"]),
    ]
    assert trail.json()["items"][0]["details"] == {
        "name": "support",
        "role": "viewer",
        "tenants": None,
    }
    assert issued["token"].removeprefix("stk_") not in trail.text
    assert hash_token(issued["token"]) not in trail.text
    assert audit.verify().ok


def test_a_token_can_be_limited_to_existing_tenants(
    client: TestClient, tenants: InMemoryTenants, tokens: TokenStore
) -> None:
    tenants.put("acme", state=TenantState.ACTIVE)
    tenants.put("initech", state=TenantState.ACTIVE)
    issued = _issue(client, name="helpdesk", role="operator", tenants=["initech", "acme"])
    assert issued["tenants"] == ["acme", "initech"]
    assert tokens.get(issued["id"]).tenants == frozenset({"acme", "initech"})


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"name": "x", "role": "root"}, "body.role"),
        ({"name": "x", "role": "viewer", "token": "stk_mine"}, "body.token"),
        ({"name": " ", "role": "viewer"}, "name must be 1..100"),
        ({"name": "x", "role": "viewer", "tenants": []}, "at least one tenant"),
        ({"name": "x", "role": "viewer", "tenants": ["acme", "nobody"]}, "'nobody'"),
        ({"name": "x", "role": "admin", "tenants": ["acme"]}, "admin token cannot be"),
        ({"name": "x", "role": "viewer", "tenants": ["a"] * 101}, "body.tenants"),
    ],
)
def test_bad_requests_are_422_and_issue_nothing(
    client: TestClient, tenants: InMemoryTenants, tokens: TokenStore, body: Any, says: str
) -> None:
    tenants.put("acme", state=TenantState.ACTIVE)
    response = client.post("/api/v1/tokens", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert says in response.json()["error"]["message"]
    assert tokens.list() == []
