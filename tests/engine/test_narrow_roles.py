"""After onboarding, Stockade works through the baseline's narrow roles; the org access role is
used only to create the access stack, which locks it (the example spec sets LockAccessRole).

The sandbox enforces no IAM policy (moto), so the lock is checked two ways: the role carries
the ``stockade-locked`` deny-all policy, and Stockade's own policy evaluator (``policy``)
denies everything to the role under its policies as the sandbox holds them; and Stockade's
calls are recorded with the role that signed each one (``role_support.RoleRecorder``), so no
call after the access stack may have used the locked role.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest

from engine.role_support import NARROW_ROLES, RECORDER, Call
from engine.rollout_support import wait_services
from engine.support import Planes, account_client, wait_settled
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.policy.guardrails import evaluate_in_account
from stockade.policy.model import DecisionKind
from stockade.policy.parse import PolicyCache
from stockade.server.control import ControlPlane

TENANT = "narrow-acme"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture
def plane(planes: Planes) -> ControlPlane:
    return planes.get(NARROW_ROLES)


@pytest.fixture
def onboarded(plane: ControlPlane) -> str:
    """The tenant's account, onboarded (services included) by this plane."""
    if plane.repo.find(TENANT) is None:
        plane.service.create_tenant(TenantRequest(tenant_id=TENANT, tier="standard"), actor="test")
    tenant = wait_settled(plane, [TENANT])[TENANT]
    assert tenant.state is TenantState.ACTIVE, tenant.failure_reason
    wait_services(plane, [TENANT])
    assert tenant.account_id is not None
    return tenant.account_id


def _document(value: Any) -> Any:
    """A policy document as IAM returns it. moto renders the inline policies of a role made by
    CloudFormation (``Policies``) as Python's repr of the template's mapping, not JSON."""
    return ast.literal_eval(value) if isinstance(value, str) else value


def _decision(
    account_id: str, role: str, action: str, resource: str, policies: list[Any], **context: Any
) -> DecisionKind:
    cache = PolicyCache()
    call = evaluate_in_account(
        account_id=account_id,
        principal=f"arn:aws:iam::{account_id}:role/{role}",
        action=action,
        resource=resource,
        context=context or None,
        identity=tuple(cache.get(p) for p in policies),
        scps=(),
        cache=cache,
    )
    return call.decision.kind


def test_the_access_stack_locks_the_org_access_role(plane: ControlPlane, onboarded: str) -> None:
    org = plane.spec.spec.organization
    (access,) = [s for s in plane.spec.spec.baseline.stacks if s.name == "stockade-access"]
    assert access.parameters["LockAccessRole"] == "true"
    iam = account_client(plane, "iam", onboarded)
    locked = iam.get_role_policy(RoleName=org.access_role, PolicyName="stockade-locked")
    attached = iam.list_attached_role_policies(RoleName=org.access_role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMIN]  # as Organizations made it
    admin = iam.get_policy_version(PolicyArn=ADMIN, VersionId="v1")["PolicyVersion"]["Document"]
    policies = [admin, locked["PolicyDocument"]]

    for action, resource in (
        ("cloudformation:DescribeStacks", "*"),
        ("cloudformation:CreateStack", "*"),
        ("iam:CreateUser", f"arn:aws:iam::{onboarded}:user/intruder"),
        ("iam:DeleteRolePolicy", f"arn:aws:iam::{onboarded}:role/{org.access_role}"),
        ("s3:GetObject", "arn:aws:s3:::tenant-data/x"),
    ):
        assert _decision(onboarded, org.access_role, action, resource, policies) is (
            DecisionKind.EXPLICIT_DENY
        ), action
        # without the lock, AdministratorAccess allows it
        assert _decision(onboarded, org.access_role, action, resource, [admin]) is (
            DecisionKind.ALLOW
        ), action


def test_the_deploy_role_changes_stockade_roles_only_through_cloudformation(
    plane: ControlPlane, onboarded: str
) -> None:
    org = plane.spec.spec.organization
    iam = account_client(plane, "iam", onboarded)
    deploy = iam.get_role_policy(RoleName=org.deploy_role, PolicyName="stockade-deploy")
    policies = [_document(deploy["PolicyDocument"])]
    read_role = f"arn:aws:iam::{onboarded}:role/{org.read_role}"
    access_role = f"arn:aws:iam::{onboarded}:role/{org.access_role}"
    via_cfn = {"aws:CalledVia": ["cloudformation.amazonaws.com"]}

    direct = _decision(onboarded, org.deploy_role, "iam:PutRolePolicy", read_role, policies)
    assert direct is DecisionKind.EXPLICIT_DENY
    updated = _decision(
        onboarded, org.deploy_role, "iam:PutRolePolicy", read_role, policies, **via_cfn
    )
    assert updated is DecisionKind.ALLOW  # an update of the access stack
    lock = _decision(
        onboarded, org.deploy_role, "iam:PutRolePolicy", access_role, policies, **via_cfn
    )
    assert lock is DecisionKind.ALLOW  # turning the lock on in a rollout


def _roles(calls: list[Call]) -> set[str | None]:
    return {c.role for c in calls}


def test_only_the_access_stack_goes_through_the_org_access_role(
    plane: ControlPlane, onboarded: str
) -> None:
    org = plane.spec.spec.organization
    calls = RECORDER.calls(onboarded)
    assert calls and None not in _roles(calls)  # every call signed by an assumed role
    by_access = [i for i, c in enumerate(calls) if c.role == org.access_role]
    others = [i for i, c in enumerate(calls) if c.role != org.access_role]
    assert by_access and others
    # the org access role created the access stack and waited for it, nothing else, ever
    assert {(calls[i].operation, calls[i].stack) for i in by_access} <= {
        ("CreateStack", "stockade-access"),
        ("DescribeStacks", "stockade-access"),
    }
    assert max(by_access) < min(others)
    # then: deploys through the deploy role (the platform stack and the services, through
    # change sets), reads through the read role
    deployed = {(c.operation, c.stack) for c in calls if c.role == org.deploy_role}
    assert ("CreateChangeSet", "stockade-platform") in deployed
    assert ("CreateChangeSet", "stockade-svc-orders") in deployed
    reads = {(c.operation, c.stack) for c in calls if c.role == org.read_role}
    assert ("ListStackResources", "stockade-access") in reads  # the resource check
    assert ("ListStackResources", "stockade-platform") in reads
    assert ("DescribeStacks", None) in reads  # the account's stacks, observed
    assert _roles(calls) == {org.access_role, org.deploy_role, org.read_role}


def test_plans_and_scans_read_the_locked_account_through_narrow_roles(
    plane: ControlPlane, onboarded: str
) -> None:
    org = plane.spec.spec.organization
    before = len(RECORDER.calls(onboarded))

    outcome = plane.planner.plan(refresh=True)
    (planned,) = [t for t in outcome.plan.tenants if t.tenant_id == TENANT]
    assert not planned.changes and planned.error is None
    scan = plane.scans.scan_credentials(tenant_ids={TENANT})
    assert scan.accounts == 1 and not scan.errors and scan.clean

    later = RECORDER.calls(onboarded)[before:]
    assert {(c.role, c.operation) for c in later if c.service == "cloudformation"} == {
        (org.read_role, "DescribeStacks")
    }
    assert {c.role for c in later if c.service == "iam"} == {org.scan_role}
    assert {c.operation for c in later if c.service == "iam"} >= {
        "ListUsers",
        "GetAccountSummary",
    }
