"""Break-glass access through the API: request, a second person's approval (never one's own),
denial, expiry (the broker's clock moved), one use, scopes, and every step in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.fake_access import Clock, FakeSessions
from api.fakes import InMemoryTenants, bearer
from stockade.domain.tenant import TenantState
from stockade.store import AuditLog, TokenStore

REQUESTS = "/api/v1/access/requests"


def _token(tokens: TokenStore, name: str, role: str, **scope: Any) -> dict[str, str]:
    plaintext, _info = tokens.create(name, role, actor="test", **scope)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def people(tokens: TokenStore) -> dict[str, dict[str, str]]:
    """alice asks (operator) and also holds an approver token; bob approves."""
    return {
        "alice": _token(tokens, "alice", "operator"),
        "alice-approver": _token(tokens, "alice", "approver"),
        "bob": _token(tokens, "bob", "approver"),
    }


@pytest.fixture(autouse=True)
def fleet(tenants: InMemoryTenants) -> None:
    tenants.put("acme", state=TenantState.ACTIVE, account_id="111122223333")
    tenants.put("globex", state=TenantState.ACTIVE, account_id="444455556666")


def _ask(client: TestClient, caller: dict[str, str], tenant: str = "acme", **body: Any) -> Any:
    return client.post(
        REQUESTS, json={"tenant": tenant, "reason": "db down", **body}, headers=caller
    )


def _decide(client: TestClient, caller: dict[str, str], request_id: str, verb: str) -> Any:
    body = {"reason": "not an emergency"} if verb == "deny" else None
    return client.post(f"{REQUESTS}/{request_id}/{verb}", json=body, headers=caller)


def _use(client: TestClient, caller: dict[str, str], request_id: str, **body: Any) -> Any:
    payload = {"role": "breakglass", "reason": "fixing it", "request_id": request_id, **body}
    return client.post("/api/v1/tenants/acme/access", json=payload, headers=caller)


def _code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]["code"]
    return code


def test_break_glass_needs_a_second_person_and_gives_credentials_once(
    client: TestClient,
    people: dict[str, dict[str, str]],
    sessions: FakeSessions,
    audit: AuditLog,
) -> None:
    asked = _ask(client, people["alice"], duration_seconds=1800)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["state"], request["requester"], request["duration_seconds"]) == (
        "pending",
        "alice",
        1800,
    )
    rid = request["id"]
    assert _code(_use(client, people["alice"], rid), 403) == "STK-1500"  # not approved yet

    own = _decide(client, people["alice-approver"], rid, "approve")
    assert _code(own, 403) == "STK-1510"
    assert "second person" in own.json()["error"]["hint"]

    approved = _decide(client, people["bob"], rid, "approve")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["decided_by"]) == ("approved", "bob")
    assert _code(_decide(client, people["bob"], rid, "approve"), 409) == "STK-1540"

    assert _code(_use(client, bearer("admin"), rid), 403) == "STK-1520"  # not the requester
    assert _code(_use(client, people["alice"], rid, duration_seconds=3600), 422) == "STK-1000"
    used = _use(client, people["alice"], rid)
    assert used.status_code == 200, used.text
    assert used.headers["cache-control"] == "no-store"
    assert used.json()["role_name"] == "StockadeBreakGlassRole"
    [call] = sessions.calls
    assert call.duration_seconds == 1800  # the approved duration
    assert call.tags["stockade:request"] == rid
    assert _code(_use(client, people["alice"], rid), 409) == "STK-1540"  # once
    assert len(sessions.calls) == 1

    listed = client.get(REQUESTS, params={"state": "used"}, headers=people["bob"]).json()
    assert [r["id"] for r in listed["items"]] == [rid]
    trail = [(e.action, e.actor) for e in reversed(audit.list(limit=50)) if "access" in e.action]
    assert trail == [
        ("access.request", "alice"),
        ("access.approve", "bob"),
        ("access.issue", "alice"),
    ]
    issue = audit.list(action="access.issue")[0]
    assert (issue.subject, issue.details["request"], issue.details["state"]) == (
        "acme",
        rid,
        "used",
    )


def test_a_denied_request_gives_nothing(
    client: TestClient, people: dict[str, dict[str, str]], audit: AuditLog
) -> None:
    rid = _ask(client, people["alice"]).json()["id"]
    no_reason = client.post(f"{REQUESTS}/{rid}/deny", json={}, headers=people["bob"])
    assert _code(no_reason, 422) == "STK-1000"
    denied = _decide(client, people["bob"], rid, "deny")
    assert denied.status_code == 200, denied.text
    assert (denied.json()["state"], denied.json()["decision_reason"]) == (
        "denied",
        "not an emergency",
    )
    assert _code(_decide(client, people["bob"], rid, "approve"), 409) == "STK-1540"
    assert _code(_use(client, people["alice"], rid), 409) == "STK-1540"
    [event] = audit.list(action="access.deny")
    assert (event.actor, event.details["decision_reason"]) == ("bob", "not an emergency")


def test_requests_expire_unapproved_and_unused(
    client: TestClient, people: dict[str, dict[str, str]], clock: Clock, audit: AuditLog
) -> None:
    late = _ask(client, people["alice"]).json()["id"]
    clock.advance(3600)
    assert _code(_decide(client, people["bob"], late, "approve"), 409) == "STK-1530"
    [expired] = audit.list(action="access.request.expire")
    assert (expired.subject, expired.actor) == (late, "stockade")

    unused = _ask(client, people["alice"]).json()["id"]
    assert _decide(client, people["bob"], unused, "approve").status_code == 200
    clock.advance(3599)
    forgotten = _ask(client, people["alice"]).json()["id"]
    clock.advance(1)  # ``unused`` reaches the end of its window; ``forgotten`` is still pending
    assert _code(_use(client, people["alice"], unused), 409) == "STK-1530"
    assert [e.subject for e in audit.list(action="access.request.expire")] == [unused, late]
    states = {
        r["id"]: r["state"] for r in client.get(REQUESTS, headers=people["alice"]).json()["items"]
    }
    assert states == {late: "expired", unused: "expired", forgotten: "pending"}
    clock.advance(3600)
    listed = client.get(REQUESTS, params={"state": "expired"}, headers=people["bob"]).json()
    assert listed["count"] == 3  # listing recorded the expiry of ``forgotten``
    assert len(audit.list(action="access.request.expire")) == 3


def test_scoped_tokens_ask_list_and_decide_for_their_tenants_only(
    client: TestClient, tokens: TokenStore, people: dict[str, dict[str, str]]
) -> None:
    assert _code(_ask(client, bearer("support"), "globex"), 404) == "STK-1200"
    mine = _ask(client, bearer("support")).json()["id"]
    theirs = _ask(client, people["alice"], "globex").json()["id"]
    listed = client.get(REQUESTS, headers=bearer("support")).json()
    assert [r["id"] for r in listed["items"]] == [mine]
    globex_approver = _token(tokens, "carol", "approver", tenants=["globex"])
    assert _code(_decide(client, globex_approver, mine, "approve"), 404) == "STK-1200"
    assert _decide(client, globex_approver, theirs, "approve").status_code == 200
    assert _code(_decide(client, bearer("approver"), "ar-nope", "deny"), 404) == "STK-1200"


def test_viewers_cannot_ask_and_bad_requests_record_nothing(
    client: TestClient, people: dict[str, dict[str, str]], audit: AuditLog
) -> None:
    before = audit.count()
    assert _code(_ask(client, bearer("viewer")), 403) == "STK-1410"
    assert _code(_ask(client, people["alice"], reason=""), 422) == "STK-1000"
    assert _code(_ask(client, people["alice"], duration_seconds=5400), 422) == "STK-1000"
    assert _code(_ask(client, people["alice"], "nope"), 404) == "STK-1200"
    assert audit.count() == before
