"""The access routes over the real broker and store (STS answered by ``FakeSessions``):
credentials by level and role, support staff's scope, refusals that issue nothing, the audit
trail (never a secret), ``~/.aws/config`` profiles."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.fake_access import SECRET_PREFIX, TOKEN_PREFIX, FakeSessions
from api.fakes import InMemoryTenants, bearer
from stockade.domain.errors import CloudError
from stockade.domain.tenant import TenantState
from stockade.store import AuditLog

ACCOUNT = "111122223333"


def access(tenant: str = "acme") -> str:
    return f"/api/v1/tenants/{tenant}/access"


def _issue(client: TestClient, caller: str, tenant: str = "acme", **body: Any) -> Any:
    return client.post(
        access(tenant), json={"role": "readonly", "reason": "ticket 42", **body}, headers=caller
    )


def _error(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    assert error["code"] == code, error
    return error


def _audit_text(audit: AuditLog) -> str:
    return json.dumps([e.details for e in audit.list(limit=1000)])


@pytest.fixture(autouse=True)
def fleet(tenants: InMemoryTenants) -> InMemoryTenants:
    tenants.put("acme", state=TenantState.ACTIVE, account_id=ACCOUNT)
    tenants.put("globex", state=TenantState.ACTIVE, account_id="444455556666")
    tenants.put("initech", state=TenantState.SUSPENDED, account_id="777788889999")
    tenants.put("hooli", state=TenantState.PROVISIONING)
    return tenants


def test_readonly_credentials_are_issued_with_the_callers_identity_and_audited(
    client: TestClient, sessions: FakeSessions, audit: AuditLog
) -> None:
    response = _issue(client, bearer("viewer"), duration_seconds=1800)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert (document["tenant"], document["account_id"], document["role"]) == (
        "acme",
        ACCOUNT,
        "readonly",
    )
    assert document["role_name"] == "StockadeReadOnlyRole"
    assert document["credentials"]["secret_access_key"].startswith(SECRET_PREFIX)
    [call] = sessions.calls
    assert (call.account_id, call.role_name, call.duration_seconds) == (
        ACCOUNT,
        "StockadeReadOnlyRole",
        1800,
    )
    assert call.session_name == call.source_identity == "viewer@example.com"
    assert call.tags == {"stockade:tenant": "acme", "stockade:reason": "ticket 42"}

    [event] = audit.list(action="access.issue")
    assert (event.actor, event.subject) == ("viewer@example.com", "acme")
    details = event.details
    assert details["access_key_id"] == document["credentials"]["access_key_id"]
    assert (details["level"], details["reason"], details["duration_seconds"]) == (
        "readonly",
        "ticket 42",
        1800,
    )
    issued_expiry = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(details["expiration"]) == issued_expiry
    assert SECRET_PREFIX not in _audit_text(audit) and TOKEN_PREFIX not in _audit_text(audit)


def test_each_level_is_for_its_roles_only(client: TestClient, sessions: FakeSessions) -> None:
    denied = _issue(client, bearer("viewer"), role="operator")
    assert "admin, operator" in _error(denied, 403, "STK-1520")["hint"]
    assert _issue(client, bearer("operator"), role="operator").status_code == 200
    assert _issue(client, bearer("admin"), role="operator").status_code == 200
    _error(_issue(client, bearer("approver")), 403, "STK-1410")  # the gate: approvers decide
    no_request = _issue(client, bearer("operator"), role="breakglass")
    assert "stockade access request acme" in _error(no_request, 403, "STK-1500")["hint"]
    assert [c.role_name for c in sessions.calls] == ["StockadeOperatorRole"] * 2


def test_support_staff_reach_their_own_tenants_only(
    client: TestClient, sessions: FakeSessions
) -> None:
    assert _issue(client, bearer("support-viewer")).status_code == 200
    assert _issue(client, bearer("support"), "initech", role="operator").status_code == 200
    outside = _issue(client, bearer("support"), "globex")
    assert "does not exist" in _error(outside, 404, "STK-1200")["message"]
    assert [c.account_id for c in sessions.calls] == [ACCOUNT, "777788889999"]


@pytest.mark.parametrize(
    ("tenant", "body", "status", "code", "mentions"),
    [
        ("hooli", {}, 409, "STK-1550", "provisioning"),
        ("nope", {}, 404, "STK-1200", "does not exist"),
        ("acme", {"duration_seconds": 7200}, 422, "STK-1000", "900..3600"),
        ("acme", {"duration_seconds": 600}, 422, "STK-1000", "out of range"),
        ("acme", {"reason": "  "}, 422, "STK-1000", "reason is required"),
        ("acme", {"role": "root"}, 422, "STK-1000", "body.role"),
        ("acme", {"account_id": "1"}, 422, "STK-1000", "account_id"),
        ("acme", {"request_id": "ar-1"}, 422, "STK-1000", "only for breakglass"),
    ],
)
def test_refused_requests_issue_and_record_nothing(
    client: TestClient,
    sessions: FakeSessions,
    audit: AuditLog,
    tenant: str,
    body: dict[str, Any],
    status: int,
    code: str,
    mentions: str,
) -> None:
    before = audit.count()
    error = _error(_issue(client, bearer("operator"), tenant, **body), status, code)
    assert mentions in error["message"] + error["hint"]
    assert sessions.calls == [] and audit.count() == before


def test_an_sts_refusal_is_a_clear_error_and_nothing_is_audited(
    client: TestClient, sessions: FakeSessions, audit: AuditLog
) -> None:
    sessions.refuse(CloudError("sts:AssumeRole: AccessDenied: not authorized"))
    before = audit.count()
    error = _error(_issue(client, bearer("viewer")), 502, "STK-2000")
    assert "AccessDenied" in error["message"]
    assert audit.count() == before


def test_profiles_list_active_tenants_with_an_account_per_level_the_caller_may_get(
    client: TestClient, tenants: InMemoryTenants
) -> None:
    tenants.put("initrode", state=TenantState.ACTIVE)  # no account yet: no profile

    def profiles(caller: str, **params: str) -> Any:
        return client.get("/api/v1/access/profiles", params=params, headers=bearer(caller))

    viewer = profiles("viewer").json()
    assert viewer["region"] == "us-east-1"
    assert [(p["tenant"], p["role"], p["profile"]) for p in viewer["items"]] == [
        ("acme", "readonly", "stockade-acme-readonly"),
        ("globex", "readonly", "stockade-globex-readonly"),
    ]
    operator = profiles("operator").json()
    assert {p["role"] for p in operator["items"]} == {"readonly", "operator"}
    assert operator["count"] == 4
    assert [p["tenant"] for p in profiles("support", role="operator").json()["items"]] == ["acme"]
    _error(profiles("viewer", role="operator"), 403, "STK-1520")
    assert "no profile" in _error(profiles("admin", role="breakglass"), 422, "STK-1000")["message"]
