"""The credential scan over real onboarded accounts finds exactly the credentials planted there.

Offenders are planted in two tenants' accounts through boto3 clients of the sandbox acting in
those accounts (moto's account header), a third account holds only clean users. What moto
cannot produce is set through the sandbox's credential facts (``cloud.sandbox.iam``): an old
key's creation date, a last use long ago, root access keys. One key is really used: a call
signed with it, which moto records as its last use. The scan must report every planted
offender and nothing else (sets compared for equality).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from engine.role_support import NARROW_ROLES, RECORDER
from engine.support import REGION, Planes, account_client, wait_settled
from stockade.domain.credentials import FindingKind, Severity
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.server.control import ControlPlane

ALPHA, BETA, CLEAN = "scan-alpha", "scan-beta", "scan-clean"
Identity = tuple[str, FindingKind, str, str | None]


@pytest.fixture
def plane(planes: Planes) -> ControlPlane:
    return planes.get(NARROW_ROLES)


def _iso(when: datetime) -> str:
    return when.isoformat()


def _user(iam: Any, name: str, *, console: bool = False, mfa: bool = False) -> None:
    iam.create_user(UserName=name)
    if console:
        iam.create_login_profile(UserName=name, Password="Correct-Horse-9")
    if mfa:
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
        iam.enable_mfa_device(
            UserName=name,
            SerialNumber=device["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )


def _key(iam: Any, user: str) -> dict[str, str]:
    key: dict[str, str] = iam.create_access_key(UserName=user)["AccessKey"]
    return key


def _use(plane: ControlPlane, key: dict[str, str]) -> None:
    """A call signed with the key itself: moto records it as the key's last use (sts)."""
    assert plane.sandbox is not None
    boto3.client(
        "sts",
        endpoint_url=plane.sandbox.endpoint_url,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    ).get_caller_identity()


def _onboard(plane: ControlPlane, *tenant_ids: str) -> dict[str, str]:
    for tenant_id in tenant_ids:
        if plane.repo.find(tenant_id) is None:
            plane.service.create_tenant(
                TenantRequest(tenant_id=tenant_id, tier="free"), actor="test"
            )
    tenants = wait_settled(plane, tenant_ids)
    assert all(t.state is TenantState.ACTIVE for t in tenants.values())
    return {tenant_id: str(t.account_id) for tenant_id, t in tenants.items()}


def _plant(plane: ControlPlane, accounts: dict[str, str]) -> dict[Identity, Severity]:
    """Plant users in the three accounts; the findings a scan must report, with severities."""
    assert plane.sandbox is not None
    now = datetime.now(UTC)
    alpha, beta, clean = accounts[ALPHA], accounts[BETA], accounts[CLEAN]

    iam = account_client(plane, "iam", alpha)
    _user(iam, "ci-old")
    old = _key(iam, "ci-old")
    _user(iam, "ci-new")
    new = _key(iam, "ci-new")
    _use(plane, new)
    _user(iam, "ci-unused")
    unused = _key(iam, "ci-unused")
    _user(iam, "ci-retired")
    retired = _key(iam, "ci-retired")
    iam.update_access_key(
        UserName="ci-retired", AccessKeyId=retired["AccessKeyId"], Status="Inactive"
    )
    _user(iam, "alice", console=True)
    plane.sandbox.set_credential_facts(
        alpha,
        access_keys=[
            {
                "access_key_id": old["AccessKeyId"],
                "created": _iso(now - timedelta(days=400)),
                "last_used": _iso(now - timedelta(days=2)),
                "last_used_service": "s3",
            },
            {"access_key_id": retired["AccessKeyId"], "created": _iso(now - timedelta(days=900))},
        ],
    )

    iam = account_client(plane, "iam", beta)
    _user(iam, "bob", console=True, mfa=True)
    _user(iam, "ops", console=True)
    stale = _key(iam, "ops")
    plane.sandbox.set_credential_facts(
        beta,
        access_keys=[
            {"access_key_id": stale["AccessKeyId"], "created": _iso(now - timedelta(days=200))}
        ],
        root_access_keys=True,
    )

    iam = account_client(plane, "iam", clean)
    _user(iam, "clean")
    _user(iam, "carol", console=True, mfa=True)

    key, console, root = (
        FindingKind.ACCESS_KEY,
        FindingKind.CONSOLE_WITHOUT_MFA,
        FindingKind.ROOT_ACCESS_KEY,
    )
    return {
        (alpha, key, "ci-old", old["AccessKeyId"]): Severity.HIGH,
        (alpha, key, "ci-new", new["AccessKeyId"]): Severity.LOW,
        (alpha, key, "ci-unused", unused["AccessKeyId"]): Severity.MEDIUM,
        (alpha, console, "alice", None): Severity.HIGH,
        (beta, root, "root", None): Severity.CRITICAL,
        (beta, console, "ops", None): Severity.HIGH,
        (beta, key, "ops", stale["AccessKeyId"]): Severity.HIGH,
    }


def test_the_scan_finds_exactly_the_planted_credentials(plane: ControlPlane) -> None:
    accounts = _onboard(plane, ALPHA, BETA, CLEAN)
    expected = _plant(plane, accounts)
    progress: list[tuple[int, int]] = []

    scan = plane.scans.scan_credentials(
        tenant_ids={ALPHA, BETA, CLEAN, "no-such-tenant"},
        progress=lambda p: progress.append((p.done, p.total)),
    )

    assert scan.errors == ()
    assert scan.accounts == 3 and scan.scanned == 3
    found = {f.identity: f.severity for f in scan.findings}
    assert set(found) == set(expected)  # no miss, no false alarm
    assert found == expected
    assert scan.users == 9
    assert scan.active_access_keys == 4
    assert sorted(progress) == [(1, 3), (2, 3), (3, 3)]
    by_user = {f.principal: f for f in scan.findings if f.kind is FindingKind.ACCESS_KEY}
    assert by_user["ci-new"].last_used_service == "sts"  # really used: moto recorded it
    assert by_user["ci-new"].last_used_at is not None
    assert by_user["ci-unused"].last_used_at is None
    assert by_user["ci-old"].age_days == 400 and by_user["ci-old"].last_used_service == "s3"
    assert {f.tenant_id for f in scan.findings} == {ALPHA, BETA}
    # every IAM call went through the scan role
    org = plane.spec.spec.organization
    iam_roles = {c.role for a in accounts.values() for c in RECORDER.calls(a) if c.service == "iam"}
    assert iam_roles == {org.scan_role}
