"""``POST /api/v1/scans/credentials``: the findings document, and what scoped tokens may scan."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.fake_scans import FakeScans
from api.fakes import bearer
from stockade.engine.scan import AccountScanError

PATH = "/api/v1/scans/credentials"


def test_a_scan_answers_findings_counts_and_errors(client: TestClient, scans: FakeScans) -> None:
    scans.errors = (
        AccountScanError("initech", "333333333333", "STK-1600", "sts:AssumeRole: denied", False),
    )
    response = client.post(PATH, headers=bearer("operator"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert scans.calls == [None]  # the whole fleet
    assert body["clean"] is False
    assert body["counts"] == {
        "accounts": 3,
        "scanned": 2,
        "errors": 1,
        "users": 2,
        "active_access_keys": 1,
        "findings": 3,
        "by_severity": {"low": 0, "medium": 0, "high": 2, "critical": 1},
        "by_kind": {"access_key": 1, "console_without_mfa": 1, "root_access_key": 1},
    }
    first = body["findings"][0]
    assert first["kind"] == "root_access_key" and first["severity"] == "critical"
    key = body["findings"][1]
    assert key == {
        "tenant": "acme",
        "account_id": "111111111111",
        "kind": "access_key",
        "severity": "high",
        "principal": "deployer",
        "access_key_id": "AKIAOLDKEY0000000001",
        "age_days": 400,
        "last_used_at": "2026-01-30T00:00:00Z",
        "last_used_service": "s3",
        "reason": "active access key 400 days old (over 90): rotate it",
    }
    assert body["errors"] == [
        {
            "tenant": "initech",
            "account_id": "333333333333",
            "code": "STK-1600",
            "message": "sts:AssumeRole: denied",
            "transient": False,
        }
    ]


def test_named_tenants_are_scanned_alone(client: TestClient, scans: FakeScans) -> None:
    response = client.post(PATH, json={"tenants": ["globex"]}, headers=bearer("admin"))
    assert response.status_code == 200
    assert scans.calls == [frozenset({"globex"})]
    assert [f["tenant"] for f in response.json()["findings"]] == ["globex"]


def test_a_scoped_token_scans_only_its_tenants(client: TestClient, scans: FakeScans) -> None:
    response = client.post(PATH, headers=bearer("support"))
    assert response.status_code == 200
    assert scans.calls == [frozenset({"acme", "initech"})]
    assert {f["tenant"] for f in response.json()["findings"]} == {"acme"}

    outside = client.post(PATH, json={"tenants": ["globex"]}, headers=bearer("support"))
    assert outside.status_code == 404
    assert outside.json()["error"]["message"] == "tenant 'globex' does not exist"
    assert len(scans.calls) == 1  # refused before any scan


def test_viewers_may_not_scan_and_bad_bodies_are_refused(
    client: TestClient, scans: FakeScans
) -> None:
    assert client.post(PATH, headers=bearer("viewer")).status_code == 403
    bad = client.post(PATH, json={"tenant": ["acme"]}, headers=bearer("operator"))
    assert bad.status_code == 422
    assert scans.calls == []
