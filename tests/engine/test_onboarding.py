"""Onboarding end to end: real sandbox, real DBOS, real SQLite; what AWS and the records show."""

from __future__ import annotations

import time

from engine.support import (
    account_client,
    accounts_with_email,
    org_accounts,
    org_client,
    wait_settled,
)
from stockade.domain.tenant import ONBOARDING_STATES, TenantRequest, TenantState
from stockade.server.control import ControlPlane


def _create(plane: ControlPlane, tenant_id: str, tier: str = "standard") -> None:
    tenant = plane.service.create_tenant(
        TenantRequest(tenant_id=tenant_id, tier=tier, name=f"Tenant {tenant_id}"), actor="test"
    )
    assert tenant.state is TenantState.REQUESTED


def test_a_new_tenant_ends_active_with_its_account_placed_tagged_and_baselined(
    plane: ControlPlane,
) -> None:
    _create(plane, "happy-acme")
    tenant = wait_settled(plane, ["happy-acme"])["happy-acme"]

    assert tenant.state is TenantState.ACTIVE, tenant.failure_reason
    assert tenant.account_id and len(tenant.account_id) == 12
    assert tenant.attempt == 1
    assert tenant.failure_reason is None and tenant.failed_step is None

    org = org_client(plane)
    account = org.describe_account(AccountId=tenant.account_id)["Account"]
    assert account["Email"] == "aws+happy-acme@example.com" == tenant.account_email
    assert account["Name"] == "tenant-happy-acme"
    assert account["Status"] == "ACTIVE"
    (parent,) = org.list_parents(ChildId=tenant.account_id)["Parents"]
    assert parent["Type"] == "ORGANIZATIONAL_UNIT"
    ou = org.describe_organizational_unit(OrganizationalUnitId=parent["Id"])
    assert ou["OrganizationalUnit"]["Name"] == "Tenants"
    tags = {
        t["Key"]: t["Value"]
        for t in org.list_tags_for_resource(ResourceId=tenant.account_id)["Tags"]
    }
    assert tags["stockade:tenant"] == "happy-acme"
    assert tags["stockade:tier"] == "standard"

    cfn = account_client(plane, "cloudformation", tenant.account_id)
    baseline = [s.name for s in plane.spec.spec.baseline.stacks]
    assert baseline == ["stockade-access", "stockade-platform"]
    for name in baseline:
        (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        stack_tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
        assert stack_tags["stockade:tenant"] == "happy-acme"
    # the access stack's roles really exist in the tenant account, not in the management one
    iam = account_client(plane, "iam", tenant.account_id)
    role = iam.get_role(RoleName="StockadeDeployRole")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{tenant.account_id}:role/StockadeDeployRole"

    events = sorted(plane.audit.list(subject="happy-acme", limit=100), key=lambda e: e.seq)
    actions = [e.action for e in events]
    assert actions == ["tenant.create", "tenant.provisioning", "tenant.account", "tenant.active"]
    assert events[0].details["account_email"] == "aws+happy-acme@example.com"
    assert events[2].details == {"account_id": tenant.account_id}
    assert events[3].details == {"from": "provisioning", "to": "active"}
    verification = plane.audit.verify()
    assert verification.ok, verification.problems


def test_a_failed_create_account_fails_the_tenant_and_a_retry_creates_one_account(
    plane: ControlPlane,
) -> None:
    assert plane.sandbox is not None
    org = org_client(plane)
    email = "aws+fault-once@example.com"
    plane.sandbox.inject_fault(
        account_name="tenant-fault-once", reason="EMAIL_ALREADY_EXISTS", times=1
    )
    _create(plane, "fault-once")
    failed = wait_settled(plane, ["fault-once"])["fault-once"]

    assert failed.state is TenantState.FAILED
    assert failed.failed_step == "create-account"
    assert failed.failure_reason is not None
    assert "EMAIL_ALREADY_EXISTS" in failed.failure_reason
    assert failed.account_id is None
    assert accounts_with_email(org, email) == []
    statuses = org.list_create_account_status()["CreateAccountStatuses"]
    mine = [s for s in statuses if s["AccountName"] == "tenant-fault-once"]
    assert [(s["State"], s.get("FailureReason")) for s in mine] == [
        ("FAILED", "EMAIL_ALREADY_EXISTS")
    ]

    retried = plane.service.retry_tenant("fault-once", actor="test")
    assert retried.state is TenantState.PROVISIONING
    assert retried.attempt == 2
    tenant = wait_settled(plane, ["fault-once"])["fault-once"]

    assert tenant.state is TenantState.ACTIVE, tenant.failure_reason
    assert tenant.attempt == 2
    assert tenant.failure_reason is None and tenant.failed_step is None
    (account,) = accounts_with_email(org, email)
    assert account["Id"] == tenant.account_id
    actions = [
        e.action for e in sorted(plane.audit.list(subject="fault-once"), key=lambda e: e.seq)
    ]
    assert actions == [
        "tenant.create",
        "tenant.provisioning",
        "tenant.failed",
        "tenant.retry",
        "tenant.account",
        "tenant.active",
    ]
    assert plane.audit.verify().ok


def test_a_permanent_create_account_failure_fails_every_attempt_and_never_hangs(
    plane: ControlPlane,
) -> None:
    assert plane.sandbox is not None
    plane.sandbox.inject_fault(
        account_name="tenant-fault-always", reason="INVALID_EMAIL", times=None
    )
    _create(plane, "fault-always", tier="free")
    first = wait_settled(plane, ["fault-always"])["fault-always"]
    assert first.state is TenantState.FAILED
    assert first.failed_step == "create-account"
    assert "INVALID_EMAIL" in (first.failure_reason or "")

    plane.service.retry_tenant("fault-always", actor="test")
    second = wait_settled(plane, ["fault-always"])["fault-always"]
    assert second.state is TenantState.FAILED
    assert second.attempt == 2
    assert second.failed_step == "create-account"
    assert "INVALID_EMAIL" in (second.failure_reason or "")
    assert second.account_id is None
    assert accounts_with_email(org_client(plane), "aws+fault-always@example.com") == []
    # a failed tenant is not "pending": resuming does not start it again
    assert "fault-always" not in {t.tenant_id for t in plane.repo.in_states(ONBOARDING_STATES)}


def test_a_tenant_whose_tier_left_the_spec_fails_at_validation(plane: ControlPlane) -> None:
    # recorded directly (as if the tier existed when it was requested), then resumed
    plane.repo.create(
        TenantRequest(tenant_id="gone-tier", tier="platinum"),
        email=plane.spec.spec.naming.email("gone-tier"),
        actor="test",
    )
    assert plane.service.resume_pending() >= 1
    tenant = wait_settled(plane, ["gone-tier"])["gone-tier"]
    assert tenant.state is TenantState.FAILED
    assert tenant.failed_step == "validate"
    assert "platinum" in (tenant.failure_reason or "")
    assert accounts_with_email(org_client(plane), "aws+gone-tier@example.com") == []


def test_throttling_is_retried_and_never_fails_a_tenant(plane: ControlPlane) -> None:
    hooks = plane.hooks
    assert hooks is not None
    injected = {
        ("organizations", "CreateAccount"): 3,
        ("organizations", "MoveAccount"): 2,
        ("organizations", "TagResource"): 2,
        ("cloudformation", "CreateStack"): 2,
        ("sts", "AssumeRole"): 2,
    }
    before = hooks.throttled
    for (service, operation), count in injected.items():
        hooks.inject_throttling(service, operation, count)
    ids = [f"throttled-{i}" for i in range(5)]
    for tenant_id in ids:
        _create(plane, tenant_id, tier="free")
    tenants = wait_settled(plane, ids, timeout=60)

    assert {t.state for t in tenants.values()} == {TenantState.ACTIVE}, {
        t.tenant_id: t.failure_reason for t in tenants.values()
    }
    after = hooks.throttled
    for (service, operation), count in injected.items():
        name = f"{service}.{operation}"
        assert after.get(name, 0) - before.get(name, 0) >= count, name
    org = org_client(plane)
    for tenant_id, tenant in tenants.items():
        (account,) = accounts_with_email(org, f"aws+{tenant_id}@example.com")
        assert account["Id"] == tenant.account_id
    assert len({t.account_id for t in tenants.values()}) == len(ids)


def test_resume_pending_repeated_during_onboarding_creates_no_duplicate(
    plane: ControlPlane,
) -> None:
    ids = [f"resumed-{i}" for i in range(6)]
    for tenant_id in ids:
        _create(plane, tenant_id, tier="free")
    resumed, deadline = 0, time.monotonic() + 30
    while time.monotonic() < deadline and plane.repo.in_states(ONBOARDING_STATES):
        resumed += plane.service.resume_pending()  # as a periodic resume would, but often
        time.sleep(0.01)
    tenants = wait_settled(plane, ids)
    assert resumed >= len(ids)  # each tenant was re-enqueued at least once while onboarding

    assert {t.state for t in tenants.values()} == {TenantState.ACTIVE}
    org = org_client(plane)
    accounts = [a["Id"] for a in org_accounts(org)]
    assert len(accounts) == len(set(accounts))
    recorded = {t.account_id for t in plane.repo.list() if t.account_id}
    management = org.describe_organization()["Organization"]["MasterAccountId"]
    # every account in the organization is the management account or a recorded tenant's
    assert set(accounts) == recorded | {management}
    assert len(accounts) == len(recorded) + 1
    for tenant_id in ids:
        assert len(accounts_with_email(org, f"aws+{tenant_id}@example.com")) == 1
