"""``POST /api/v1/policy/explain``: a call evaluated in a tenant's account under its SCP chain."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.fakes import InMemoryTenants, bearer
from stockade.domain.tenant import TenantRequest, TenantState


@pytest.fixture
def acme(tenants: InMemoryTenants) -> str:
    tenant = tenants.create_tenant(TenantRequest(tenant_id="acme", tier="free"), actor="t")
    tenants.tenants["acme"] = replace(tenant, state=TenantState.ACTIVE, account_id="111122223333")
    return "acme"


def explain(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post("/api/v1/policy/explain", headers=bearer("viewer"), json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_the_ou_scp_denies_leaving_and_says_which_statement(client: TestClient, acme: str) -> None:
    body = explain(client, tenant=acme, action="organizations:LeaveOrganization")
    assert body["decision"] == "explicit_deny"
    assert body["principal"] == "arn:aws:iam::111122223333:role/TenantAdmin"
    [deciding] = body["explanation"]  # type: ignore[misc]
    assert deciding["policy_name"] == "deny-leave"
    assert deciding["target"] == "ou:Tenants"
    assert deciding["sid"] == "NoLeaving"
    assert [level["target"] for level in body["scp_chain"]] == [  # type: ignore[attr-defined]
        "root",
        "ou:Tenants",
        "account:111122223333",
    ]


def test_other_calls_are_allowed_for_an_admin(client: TestClient, acme: str) -> None:
    body = explain(
        client,
        tenant=acme,
        action="dynamodb:PutItem",
        resource="arn:aws:dynamodb:us-east-1:{account}:table/orders",
    )
    assert body["decision"] == "allow"
    assert body["resource"] == "arn:aws:dynamodb:us-east-1:111122223333:table/orders"


def test_identity_policies_replace_the_admin(client: TestClient, acme: str) -> None:
    read_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
    }
    allowed = explain(
        client,
        tenant=acme,
        action="s3:GetObject",
        resource="arn:aws:s3:::b/k",
        identity_policies=[read_only],
    )
    denied = explain(
        client,
        tenant=acme,
        action="s3:PutObject",
        resource="arn:aws:s3:::b/k",
        identity_policies=[read_only],
    )
    assert (allowed["decision"], denied["decision"]) == ("allow", "implicit_deny")


def test_conditions_see_the_given_context(client: TestClient, acme: str) -> None:
    regional = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            }
        ],
    }
    decisions = [
        explain(
            client,
            tenant=acme,
            action="sqs:SendMessage",
            identity_policies=[regional],
            context={"aws:RequestedRegion": region},
        )["decision"]
        for region in ("eu-west-1", "us-east-1")
    ]
    assert decisions == ["allow", "implicit_deny"]


def test_bad_input_is_a_clear_4xx(client: TestClient, acme: str, tenants: InMemoryTenants) -> None:
    def post(**body: object) -> tuple[int, dict[str, str]]:
        r = client.post("/api/v1/policy/explain", headers=bearer("viewer"), json=body)
        return r.status_code, r.json().get("error", {})

    status, error = post(tenant="nobody", action="s3:GetObject")
    assert status == 404 and "nobody" in error["message"]
    status, error = post(tenant=acme, action="GetObject")
    assert status == 422 and "service:Action" in error["message"]
    bad_policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEqualz": {"a": "b"}},
            }
        ]
    }
    status, error = post(tenant=acme, action="s3:GetObject", identity_policies=[bad_policy])
    assert status == 422 and error["code"] == "STK-1150" and "StringEqualz" in error["message"]
    status, error = post(tenant=acme, action="s3:GetObject", principal="bob")
    assert status == 422 and "principal" in error["message"]
    tenants.create_tenant(TenantRequest(tenant_id="newbie", tier="free"), actor="t")
    status, error = post(tenant="newbie", action="s3:GetObject")
    assert status == 409 and "no AWS account yet" in error["message"]
    assert client.post("/api/v1/policy/explain", json={"tenant": acme}).status_code == 401
