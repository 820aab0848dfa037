"""A restarted sandbox restores exactly the state it had: same instance, same ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import client, client_in, wait_settled

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.errors import SandboxError

Start = Callable[..., SandboxProcess]

TEMPLATE = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: tenant-queue
"""


def _snapshot(sandbox: SandboxProcess, member: str, member_keys: dict[str, str]) -> dict[str, Any]:
    org = client(sandbox, "organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    nested = {
        ou["Id"]: org.list_organizational_units_for_parent(ParentId=ou["Id"])["OrganizationalUnits"]
        for ou in ous
    }
    accounts = [
        {k: a[k] for k in ("Id", "Name", "Email", "Status")}
        for a in org.list_accounts()["Accounts"]
    ]
    statuses = [
        {k: s.get(k) for k in ("Id", "AccountName", "State", "AccountId", "FailureReason")}
        for s in org.list_create_account_status()["CreateAccountStatuses"]
    ]
    parents = {a["Id"]: org.list_parents(ChildId=a["Id"])["Parents"] for a in accounts}
    roles = client_in(sandbox, "iam", member).list_roles()["Roles"]
    stacks = client_in(sandbox, "cloudformation", member).describe_stacks()["Stacks"]
    # a client still holding credentials issued before the restart acts in the same account
    identity = client(sandbox, "sts", **member_keys).get_caller_identity()
    return {
        "organization": org.describe_organization()["Organization"]["Id"],
        "root": root,
        "ous": ous,
        "nested": nested,
        "accounts": accounts,
        "statuses": statuses,
        "parents": parents,
        "roles": sorted((r["RoleName"], r["RoleId"], r["Arn"]) for r in roles),
        "stacks": [(s["StackName"], s["StackId"], s["StackStatus"]) for s in stacks],
        "identity": (identity["Account"], identity["Arn"]),
    }


def test_restart_restores_identical_state(start_sandbox: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    sandbox = start_sandbox(state)
    org = client(sandbox, "organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    tenants = org.create_organizational_unit(ParentId=root, Name="tenants")["OrganizationalUnit"]
    org.create_organizational_unit(ParentId=tenants["Id"], Name="premium")
    sandbox.inject_fault("doomed-*", "INVALID_EMAIL", times=None)
    requests = [
        org.create_account(Email=f"{name}@example.com", AccountName=name)
        for name in ("alpha", "beta", "gamma", "doomed-1")
    ]
    done = wait_settled(org, [r["CreateAccountStatus"]["Id"] for r in requests])
    member = done[0]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=tenants["Id"])

    # IAM in the member account through the role Organizations created there
    creds = client(sandbox, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        RoleSessionName="stockade",
    )["Credentials"]
    member_keys = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }
    client(sandbox, "iam", **member_keys).create_role(
        RoleName="tenant-app", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}'
    )
    # CloudFormation in the member account through the x-moto-account-id header
    client_in(sandbox, "cloudformation", member).create_stack(
        StackName="tenant-base", TemplateBody=TEMPLATE
    )

    before = _snapshot(sandbox, member, member_keys)
    assert [s["State"] for s in before["statuses"]] == ["SUCCEEDED"] * 3 + ["FAILED"]
    assert ("tenant-app" in {r[0] for r in before["roles"]}) and before["stacks"]
    assert before["identity"][0] == member
    instance_id = sandbox.instance_id
    sandbox.stop()

    restored = start_sandbox(state)
    assert restored.instance_id == instance_id
    assert restored.restored_requests >= 10
    assert _snapshot(restored, member, member_keys) == before

    # the fault was restored too: it still fails every "doomed-*" creation
    again = client(restored, "organizations").create_account(
        Email="d2@example.com", AccountName="doomed-2"
    )["CreateAccountStatus"]
    assert "AccountId" not in again


def test_torn_last_journal_line_is_dropped(start_sandbox: Start, tmp_path: Path) -> None:
    """A crash in the middle of a journal write loses only that (unanswered) request."""
    state = tmp_path / "torn"
    sandbox = start_sandbox(state)
    org_id = client(sandbox, "organizations").create_organization(FeatureSet="ALL")["Organization"][
        "Id"
    ]
    sandbox.stop()
    with (state / "journal.jsonl").open("ab") as journal:
        journal.write(b'{"seq": 2, "body": "eyJ')  # no newline: the write never finished

    restored = start_sandbox(state)
    assert restored.restored_requests == 1
    org = client(restored, "organizations")
    assert org.describe_organization()["Organization"]["Id"] == org_id
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="after")["OrganizationalUnit"]
    restored.stop()

    again = start_sandbox(state)
    assert again.restored_requests == 2
    ous = client(again, "organizations").list_organizational_units_for_parent(ParentId=root)
    assert [o["Id"] for o in ous["OrganizationalUnits"]] == [ou["Id"]]


def test_damaged_journal_fails_start_with_the_log(start_sandbox: Start, tmp_path: Path) -> None:
    state = tmp_path / "damaged"
    sandbox = start_sandbox(state)
    org = client(sandbox, "organizations")
    org.create_organization(FeatureSet="ALL")
    org.create_organizational_unit(ParentId=org.list_roots()["Roots"][0]["Id"], Name="x")
    sandbox.stop()
    lines = (state / "journal.jsonl").read_bytes().split(b"\n")
    lines[1] = b"not json"
    (state / "journal.jsonl").write_bytes(b"\n".join(lines))

    with pytest.raises(SandboxError, match="damaged at line 2") as info:
        start_sandbox(state)
    assert "sandbox.log" in info.value.message
