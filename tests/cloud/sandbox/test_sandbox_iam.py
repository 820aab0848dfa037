"""IAM realism: the org access role as Organizations makes it, and credential facts moto lacks
(key dates, root keys), both restored by a restart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import client, client_in, wait_settled

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.errors import ValidationError

Start = Callable[..., SandboxProcess]
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _member(sandbox: SandboxProcess) -> str:
    org = client(sandbox, "organizations")
    org.create_organization(FeatureSet="ALL")
    request = org.create_account(Email="m@example.com", AccountName="member")
    (done,) = wait_settled(org, [request["CreateAccountStatus"]["Id"]])
    return str(done["AccountId"])


def _access_role(sandbox: SandboxProcess, account_id: str) -> dict[str, Any]:
    iam = client_in(sandbox, "iam", account_id)
    role = iam.get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    attached = iam.list_attached_role_policies(RoleName="OrganizationAccountAccessRole")
    return {
        "arn": role["Arn"],
        "trust": role["AssumeRolePolicyDocument"],
        "attached": [p["PolicyArn"] for p in attached["AttachedPolicies"]],
    }


def _keys(sandbox: SandboxProcess, account_id: str, user: str) -> dict[str, Any]:
    iam = client_in(sandbox, "iam", account_id)
    facts: dict[str, Any] = {}
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        facts[key["AccessKeyId"]] = (
            key["CreateDate"].astimezone(UTC),
            used.get("LastUsedDate") and used["LastUsedDate"].astimezone(UTC),
            used["ServiceName"],
        )
    return facts


def test_a_created_account_gets_the_org_access_role_with_administrator_access(
    start_sandbox: Start, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sandbox = start_sandbox(state)
    member = _member(sandbox)
    management = client(sandbox, "sts").get_caller_identity()["Account"]

    role = _access_role(sandbox, member)
    assert role["arn"] == f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    (statement,) = role["trust"]["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{management}:root"}
    assert statement["Action"] == "sts:AssumeRole"
    assert role["attached"] == [ADMIN]
    document = client_in(sandbox, "iam", member).get_policy_version(
        PolicyArn=ADMIN, VersionId="v1"
    )["PolicyVersion"]["Document"]
    assert document["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    sandbox.stop()

    restored = start_sandbox(state)
    assert _access_role(restored, member) == role


def test_credential_facts_set_key_dates_and_root_keys_and_survive_a_restart(
    start_sandbox: Start, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sandbox = start_sandbox(state)
    member = _member(sandbox)
    iam = client_in(sandbox, "iam", member)
    iam.create_user(UserName="ci")
    old = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
    unused = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
    sandbox.set_credential_facts(
        member,
        access_keys=[
            {
                "access_key_id": old,
                "created": "2024-01-31T00:00:00Z",
                "last_used": "2025-06-01T12:00:00Z",
                "last_used_service": "s3",
            },
            {"access_key_id": unused, "created": "2025-12-24T08:00:00+00:00"},
        ],
        root_access_keys=True,
    )

    facts = _keys(sandbox, member, "ci")
    assert facts[old] == (
        datetime(2024, 1, 31, tzinfo=UTC),
        datetime(2025, 6, 1, 12, tzinfo=UTC),
        "s3",
    )
    assert facts[unused] == (datetime(2025, 12, 24, 8, tzinfo=UTC), None, "N/A")
    assert iam.get_account_summary()["SummaryMap"]["AccountAccessKeysPresent"] == 1
    # another account is untouched
    other = client_in(sandbox, "iam", client(sandbox, "sts").get_caller_identity()["Account"])
    assert other.get_account_summary()["SummaryMap"]["AccountAccessKeysPresent"] == 0
    sandbox.stop()

    restored = start_sandbox(state)
    assert _keys(restored, member, "ci") == facts
    summary = client_in(restored, "iam", member).get_account_summary()["SummaryMap"]
    assert summary["AccountAccessKeysPresent"] == 1


def test_credential_facts_for_an_unknown_key_change_nothing(start_sandbox: Start) -> None:
    sandbox = start_sandbox()
    member = _member(sandbox)
    with pytest.raises(ValidationError, match="no access key AKIANOTAKEY"):
        sandbox.set_credential_facts(
            member,
            access_keys=[{"access_key_id": "AKIANOTAKEY", "created": "2024-01-01"}],
            root_access_keys=True,
        )
    summary = client_in(sandbox, "iam", member).get_account_summary()["SummaryMap"]
    assert summary["AccountAccessKeysPresent"] == 0
