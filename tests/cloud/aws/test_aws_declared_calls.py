"""Every AWS call an adapter method makes is one it declared (``@requires``), checked by calling.

The adapters run against moto in-process, wired exactly as in production (``AwsCloud``, its
management and tenant clients, ``acting``'s AssumeRole), with a client hook that records each
call's IAM action and whether it left on a management client or a tenant client. Then:

- calls on the management client during a management method are among that method's
  declared actions;
- calls on a tenant client during a tenant adapter method (CloudFormation, IAM reads) are among
  that method's declared actions, and the AssumeRole its first call needs is among
  ``sts.assume_role``'s: the tenant role, not the management identity, makes those calls.

``sts:GetCallerIdentity`` needs no permission (``domain.iam.NO_PERMISSION_NEEDED``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stockade.cloud.aws.permissions import declared, declared_actions
from stockade.cloud.aws.session import AwsCloud, AwsTarget, StaticCredentials
from stockade.cloud.aws.sts import assume_role
from stockade.cloud.budget import RateBudget
from stockade.domain.guardrails import ScpTarget, TargetKind
from stockade.domain.iam import NO_PERMISSION_NEEDED
from stockade.domain.quotas import DEFAULT_QUOTAS

REGION = "us-east-1"
ROLE = "OrganizationAccountAccessRole"
SCP = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "x:Y", "Resource": "*"}]}
)
TEMPLATE = json.dumps(
    {
        "Parameters": {"Name": {"Type": "String", "Default": "a"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}},
    }
)


@dataclass
class Recorder:
    """A ``ClientHook`` recording (management?, IAM action) for every call, in any thread."""

    calls: list[tuple[bool, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, client: Any, *, account: Callable[[], str | None]) -> None:
        prefix = client.meta.service_model.signing_name

        def record(model: Any, **_: Any) -> None:
            with self._lock:
                self.calls.append((account() is None, f"{prefix}:{model.name}"))

        client.meta.events.register("before-call", record)

    @contextmanager
    def during(self) -> Iterator[list[tuple[bool, str]]]:
        with self._lock:
            self.calls.clear()
        seen: list[tuple[bool, str]] = []
        yield seen
        with self._lock:
            seen.extend(self.calls)


@dataclass
class Checker:
    cloud: AwsCloud
    recorder: Recorder
    exercised: set[str] = field(default_factory=set)

    def call(self, adapter: Any, method: str, /, **kwargs: Any) -> Any:
        """Call ``adapter.method(**kwargs)`` and check its calls against its declaration."""
        allowed = declared_actions(type(adapter))[method] | NO_PERMISSION_NEEDED
        assume = (declared(assume_role) or frozenset()) | NO_PERMISSION_NEEDED
        tenant_adapter = adapter is not self.cloud and type(adapter).__name__ != "Organizations"
        with self.recorder.during() as calls:
            result = getattr(adapter, method)(**kwargs)
        for management, action in calls:
            expected = assume if management and tenant_adapter else allowed
            assert action in expected, (
                f"{type(adapter).__name__}.{method} called {action} "
                f"({'management' if management else 'tenant'} client) but declares "
                f"{sorted(expected - NO_PERMISSION_NEEDED)}"
            )
            self.exercised.add(action)
        return result


@pytest.fixture(scope="module")
def checker() -> Iterator[Checker]:
    with mock_aws():
        recorder = Recorder()
        cloud = AwsCloud(
            target=AwsTarget(region=REGION, credentials=StaticCredentials("testing", "testing")),
            budget=RateBudget(DEFAULT_QUOTAS.scaled(1000.0)),
            hooks=[recorder],
        )
        yield Checker(cloud, recorder)


@pytest.fixture(scope="module")
def tenant(checker: Checker) -> str:
    org = checker.cloud.organizations()
    checker.call(org, "ensure_organization")
    created = checker.call(org, "create_account", email="t@example.com", name="tenant-t")
    status = checker.call(org, "describe_account_creation", request_id=created.request_id)
    assert status.account_id
    return str(status.account_id)


def test_organizations_calls_are_declared(checker: Checker, tenant: str) -> None:
    org = checker.cloud.organizations()
    root = checker.call(org, "ensure_organization")
    ou = checker.call(org, "ensure_ou", parent_id=root, name="Tenants")
    checker.call(org, "find_account_creation", account_name="tenant-t")
    assert checker.call(org, "find_account_by_email", email="t@example.com") is not None
    assert checker.call(org, "move_account", account_id=tenant, destination_id=ou)
    checker.call(org, "tag_account", account_id=tenant, tags={"stockade:tenant": "t"})
    assert checker.call(org, "count_accounts") == 2


def test_scp_calls_are_declared(checker: Checker, tenant: str) -> None:
    org = checker.cloud.organizations()
    checker.call(org, "enable_scps")
    policy_id = checker.call(org, "create_scp", name="deny-y", description="d", content=SCP)
    ou = ScpTarget(TargetKind.OU, "Tenants")
    checker.call(org, "attach_scp", policy_id=policy_id, target=ou)
    checker.call(org, "update_scp", policy_id=policy_id, content=SCP, description="e")
    assert any(s.policy_id == policy_id for s in checker.call(org, "list_scps"))
    assert checker.call(org, "scp_chain", account_id=tenant)
    checker.call(org, "detach_scp", policy_id=policy_id, target=ou)
    checker.call(org, "delete_scp", policy_id=policy_id)


def test_cloudformation_calls_are_declared(checker: Checker, tenant: str) -> None:
    stacks = checker.cloud.stacks(account_id=tenant, role_name=ROLE, region=REGION)
    tags = {"stockade:tenant": "t"}
    start = checker.call(
        stacks,
        "deploy_stack",
        name="svc",
        template_body=TEMPLATE,
        parameters={},
        tags=tags,
        change_set_name="cs-1",
    )
    assert start.executed
    checker.call(stacks, "wait_stack", name="svc", timeout=5.0, poll_interval=0.01)
    again = TEMPLATE.replace('"a"', '"b"')
    checker.call(
        stacks,
        "deploy_stack",
        name="svc",
        template_body=again,
        parameters={},
        tags=tags,
        change_set_name="cs-2",
    )
    checker.call(
        stacks, "create_stack", name="base", template_body=TEMPLATE, parameters={}, tags={}
    )
    assert checker.call(stacks, "get_stack", name="base") is not None
    assert checker.call(stacks, "list_stack_resources", name="base")
    assert checker.call(stacks, "list_managed_stacks", tag_key="stockade:tenant")
    checker.call(stacks, "delete_stack", name="base")
    assert ("cloudformation:ExecuteChangeSet") in checker.exercised


def test_iam_scan_calls_are_declared(checker: Checker, tenant: str) -> None:
    iam = boto3.client("iam", region_name=REGION)

    def in_tenant(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = tenant

    iam.meta.events.register("before-send.iam", in_tenant)
    iam.create_user(UserName="legacy")
    iam.create_access_key(UserName="legacy")
    iam.create_login_profile(UserName="legacy", Password="a-Long-passw0rd!")
    scan = checker.cloud.credentials(account_id=tenant, role_name=ROLE)
    inventory = checker.call(scan, "inventory")
    assert [user.name for user in inventory.users] == ["legacy"]


def test_cloud_calls_are_declared(checker: Checker, tenant: str) -> None:
    checker.call(checker.cloud, "management_account_id")
    issued = checker.call(
        checker.cloud,
        "issue_session",
        account_id=tenant,
        role_name=ROLE,
        session_name="alice",
        source_identity="alice",
        tags={"stockade:tenant": "t"},
        duration_seconds=900,
    )
    assert issued.access_key_id
