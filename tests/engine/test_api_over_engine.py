"""Bad input through the real API over the real tenant service: refused, and nothing happens.

Each refused request must leave no tenant, no audit event and no DBOS workflow behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient

from engine.rollout_support import wait_services
from engine.support import org_client, wait_idle, wait_settled
from stockade.api.app import create_app
from stockade.domain.tenant import TenantState
from stockade.server.auth import StoreAuthenticator
from stockade.server.control import ControlPlane

TENANTS = "/api/v1/tenants"


@dataclass(frozen=True)
class Api:
    client: TestClient
    headers: dict[str, str]


@pytest.fixture
def api(plane: ControlPlane) -> Iterator[Api]:
    app = create_app(
        tenants=plane.service,
        plans=plane.planner,
        rollouts=plane.rollouts,
        policies=plane.policies,
        tokens=plane.tokens,
        audit=plane.audit,
        scans=plane.scans,
        access=plane.access,
        auth=StoreAuthenticator(plane.tokens),
        version="test",
    )
    token, _info = plane.tokens.create("t", "admin", actor="test")
    wait_idle(plane)  # nothing else onboarding: the counts below only move for our requests
    with TestClient(app) as client:
        yield Api(client, {"Authorization": f"Bearer {token}"})


@dataclass(frozen=True)
class Footprint:
    tenants: int
    audit_events: int
    workflows: int


def _footprint(plane: ControlPlane) -> Footprint:
    return Footprint(
        tenants=sum(plane.repo.count_by_state().values()),
        audit_events=plane.audit.count(),
        workflows=len(DBOS.list_workflows(load_input=False, load_output=False)),
    )


def _assert_error(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, str] = body["error"]
    assert set(error) == {"code", "message", "hint"}
    assert error["code"].startswith("STK-")
    assert error["message"]
    return error


BAD_BODIES: dict[str, tuple[dict[str, Any], str]] = {
    "uppercase": ({"id": "Acme", "tier": "free"}, "slug"),
    "41 chars": ({"id": "a" * 41, "tier": "free"}, "slug"),
    "leading hyphen": ({"id": "-acme", "tier": "free"}, "slug"),
    "trailing hyphen": ({"id": "acme-", "tier": "free"}, "slug"),
    "double hyphen": ({"id": "ac--me", "tier": "free"}, "slug"),
    "leading digit": ({"id": "1acme", "tier": "free"}, "slug"),
    "underscore": ({"id": "acme_corp", "tier": "free"}, "slug"),
    "non-ascii": ({"id": "acmé", "tier": "free"}, "slug"),
    "empty id": ({"id": "", "tier": "free"}, "slug"),
    "unknown tier": ({"id": "api-unknown-tier", "tier": "platinum"}, "tier"),
    "missing tier": ({"id": "api-missing-tier"}, "tier"),
    "missing id": ({"tier": "free"}, "id"),
    "tier not a string": ({"id": "api-tier-type", "tier": ["free"]}, "tier"),
    "extra field": ({"id": "api-extra", "tier": "free", "account_id": "1" * 12}, "account_id"),
    "name too long": ({"id": "api-long-name", "tier": "free", "name": "n" * 201}, "name"),
    "bad label key": ({"id": "api-label", "tier": "free", "labels": {"Bad Key": "v"}}, "label"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES), ids=list(BAD_BODIES))
def test_invalid_create_is_refused_and_changes_nothing(
    plane: ControlPlane, api: Api, case: str
) -> None:
    body, mentions = BAD_BODIES[case]
    before = _footprint(plane)
    response = api.client.post(TENANTS, json=body, headers=api.headers)
    error = _assert_error(response, 422)
    assert mentions in (error["message"] + error["hint"]).lower()
    assert _footprint(plane) == before


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b'"acme"', b""],
    ids=["malformed", "array", "string", "empty"],
)
def test_a_body_that_is_not_a_tenant_object_is_refused(
    plane: ControlPlane, api: Api, content: bytes
) -> None:
    before = _footprint(plane)
    headers = {**api.headers, "Content-Type": "application/json"}
    response = api.client.post(TENANTS, content=content, headers=headers)
    _assert_error(response, 422)
    assert _footprint(plane) == before


def test_an_oversize_body_is_refused_before_parsing(plane: ControlPlane, api: Api) -> None:
    before = _footprint(plane)
    body = json.dumps({"id": "api-huge", "tier": "free", "name": "x" * 100_000}).encode()
    response = api.client.post(
        TENANTS, content=body, headers={**api.headers, "Content-Type": "application/json"}
    )
    _assert_error(response, 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: read until over the limit
        for _ in range(20):
            yield b" " * 8192
        yield b'{"id": "api-huge-chunked", "tier": "free"}'

    response = api.client.post(
        TENANTS, content=chunks(), headers={**api.headers, "Content-Type": "application/json"}
    )
    _assert_error(response, 413)
    assert _footprint(plane) == before
    assert plane.repo.find("api-huge") is None and plane.repo.find("api-huge-chunked") is None


def test_a_duplicate_id_is_409_and_the_original_onboards_once(
    plane: ControlPlane, api: Api
) -> None:
    tenant_id = "api-" + "d" * 36  # exactly 40 characters: the longest id allowed
    before = _footprint(plane)
    created = api.client.post(
        TENANTS, json={"id": tenant_id, "tier": "standard"}, headers=api.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "requested"
    tenant = wait_settled(plane, [tenant_id])[tenant_id]
    assert tenant.state is TenantState.ACTIVE, tenant.failure_reason
    # active once account and baseline are up; its services workflow is enqueued after that
    wait_services(plane, [tenant_id])
    after_create = _footprint(plane)
    assert after_create.tenants == before.tenants + 1

    for tier in ("standard", "free"):
        response = api.client.post(
            TENANTS, json={"id": tenant_id, "tier": tier}, headers=api.headers
        )
        error = _assert_error(response, 409)
        assert tenant_id in error["message"]
    assert _footprint(plane) == after_create
    unchanged = plane.repo.get(tenant_id)
    assert (unchanged.tier, unchanged.account_id) == ("standard", tenant.account_id)
    accounts = org_client(plane).list_accounts()["Accounts"]
    assert [a["Id"] for a in accounts if a["Email"] == f"aws+{tenant_id}@example.com"] == [
        tenant.account_id
    ]


def test_requests_without_a_valid_token_change_nothing(plane: ControlPlane, api: Api) -> None:
    viewer, _info = plane.tokens.create("viewer", "viewer", actor="test")  # audited
    before = _footprint(plane)
    body = {"id": "api-no-token", "tier": "free"}
    _assert_error(api.client.post(TENANTS, json=body), 401)
    _assert_error(
        api.client.post(TENANTS, json=body, headers={"Authorization": "Bearer stk_wrong"}), 401
    )
    _assert_error(
        api.client.post(TENANTS, json=body, headers={"Authorization": f"Bearer {viewer}"}), 403
    )
    assert _footprint(plane) == before
