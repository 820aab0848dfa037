"""``POST /api/v1/plans``: the plan's summary and the tenants it changes, for operators."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.fakes import bearer


def test_operator_gets_summary_and_only_changed_tenants(client: TestClient) -> None:
    response = client.post("/api/v1/plans", headers=bearer("operator"), json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["tenants"] == 2
    assert body["summary"]["tenants_changed"] == 1
    assert body["summary"]["create"] == 4  # two baseline stacks and the free tier's 2 services
    assert [t["id"] for t in body["tenants"]] == ["fresh"]
    actions = body["tenants"][0]["actions"]
    assert {a["action"] for a in actions} == {"create"}
    assert all(a["reason"] for a in actions)
    assert "stockade-svc-orders" in {a["stack"] for a in actions}


def test_include_unchanged_lists_every_tenant_and_stack(client: TestClient) -> None:
    response = client.post(
        "/api/v1/plans", headers=bearer("admin"), json={"include_unchanged": True}
    )
    body = response.json()
    steady = next(t for t in body["tenants"] if t["id"] == "steady")
    assert {a["action"] for a in steady["actions"]} == {"none"}


def test_viewer_may_not_plan_and_bad_bodies_are_refused(client: TestClient) -> None:
    assert client.post("/api/v1/plans", headers=bearer("viewer"), json={}).status_code == 403
    assert client.post("/api/v1/plans", json={}).status_code == 401
    bad = client.post("/api/v1/plans", headers=bearer("operator"), json={"refresh": "maybe"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "STK-1000"
