"""Client-side realism: AWS's throttling errors, botocore retries, account routing, latency."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from sandbox_support import client

from stockade.cloud.sandbox.hooks import AWS_LATENCY, FAST_LATENCY, JITTER, SandboxHooks
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.quotas import DEFAULT_QUOTAS, ApiQuota, QuotaTable


def _frozen_clock() -> float:
    return 0.0  # no time passes: an empty bucket stays empty


def test_organizations_over_budget_raises_too_many_requests(
    shared_sandbox: SandboxProcess,
) -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", True, clock=_frozen_clock)
    org = client(shared_sandbox, "organizations", attempts=1)
    hooks.install(org, account=lambda: None)
    burst = DEFAULT_QUOTAS.get("organizations", "ListRoots").burst
    for _ in range(burst):
        org.list_roots()
    with pytest.raises(ClientError) as info:
        org.list_roots()
    error = info.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["Error"]["Message"] == "Rate exceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert hooks.throttled == {"organizations.ListRoots": 1}
    assert hooks.calls == burst + 1
    org.describe_organization()  # other operations have their own bucket


def test_sts_over_budget_raises_throttling(shared_sandbox: SandboxProcess) -> None:
    quotas = QuotaTable((ApiQuota("sts", "GetCallerIdentity", 1.0, 2, throttle_code="Throttling"),))
    hooks = SandboxHooks(quotas, 1.0, "off", True, clock=_frozen_clock)
    sts = client(shared_sandbox, "sts", attempts=1)
    hooks.install(sts, account=lambda: None)
    sts.get_caller_identity()
    sts.get_caller_identity()
    with pytest.raises(ClientError) as info:
        sts.get_caller_identity()
    assert info.value.response["Error"]["Code"] == "Throttling"
    assert info.value.response["Error"]["Message"] == "Rate exceeded"


def test_unlisted_operations_throttle_with_throttling(shared_sandbox: SandboxProcess) -> None:
    quota = DEFAULT_QUOTAS.get("sts", "GetCallerIdentity")
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", True, clock=_frozen_clock)
    sts = client(shared_sandbox, "sts", attempts=1)
    hooks.install(sts, account=lambda: None)
    for _ in range(quota.burst):
        sts.get_caller_identity()
    with pytest.raises(ClientError) as info:
        sts.get_caller_identity()
    assert info.value.response["Error"]["Code"] == "Throttling"


def test_botocore_retries_a_throttled_call(shared_sandbox: SandboxProcess) -> None:
    quotas = QuotaTable((ApiQuota("organizations", "DescribeOrganization", 1.0, 1),))
    # call 1 and the first attempt of call 2 happen at t=0; the retry comes 10 s later
    ticks: Iterator[float] = itertools.chain([0.0, 0.0], itertools.repeat(10.0))
    hooks = SandboxHooks(quotas, 1.0, "off", True, clock=lambda: next(ticks))
    org = client(shared_sandbox, "organizations", attempts=3)
    hooks.install(org, account=lambda: None)
    org.describe_organization()
    response = org.describe_organization()
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert hooks.throttled == {"organizations.DescribeOrganization": 1}


def test_retries_give_up_with_the_throttling_error(shared_sandbox: SandboxProcess) -> None:
    quotas = QuotaTable((ApiQuota("organizations", "DescribeOrganization", 1.0, 1),))
    hooks = SandboxHooks(quotas, 1.0, "off", True, clock=_frozen_clock)
    org = client(shared_sandbox, "organizations", attempts=2)
    hooks.install(org, account=lambda: None)
    org.describe_organization()
    with pytest.raises(ClientError) as info:
        org.describe_organization()
    assert info.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert hooks.throttled == {"organizations.DescribeOrganization": 2}


def test_quotas_scale_with_time(shared_sandbox: SandboxProcess) -> None:
    """At time scale 100, CreateOrganizationalUnit (2/s, burst 3) refills 200 tokens a second."""
    now = [0.0]
    hooks = SandboxHooks(DEFAULT_QUOTAS, 100.0, "off", True, clock=lambda: now[0])
    org = client(shared_sandbox, "organizations", attempts=1)
    hooks.install(org, account=lambda: None)
    root = org.list_roots()["Roots"][0]["Id"]
    for i in range(3):
        org.create_organizational_unit(ParentId=root, Name=f"scaled-{i}")
    with pytest.raises(ClientError):
        org.create_organizational_unit(ParentId=root, Name="scaled-x")
    now[0] += 0.005  # one token at 200/s
    org.create_organizational_unit(ParentId=root, Name="scaled-3")


def test_account_header_routes_to_that_account(shared_sandbox: SandboxProcess) -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", False)
    iam = client(shared_sandbox, "iam")
    hooks.install(iam, account=lambda: "111122223333")
    role = iam.create_role(
        RoleName="routed", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]
    assert role["Arn"] == "arn:aws:iam::111122223333:role/routed"
    default_account = client(shared_sandbox, "iam")
    with pytest.raises(ClientError) as info:
        default_account.get_role(RoleName="routed")
    assert info.value.response["Error"]["Code"] == "NoSuchEntity"
    assert iam.get_role(RoleName="routed")["Role"]["RoleId"] == role["RoleId"]


@pytest.mark.parametrize(
    ("profile", "low", "high"),
    [
        ("off", None, None),
        ("fast", FAST_LATENCY[0], FAST_LATENCY[1]),
        (
            "aws-like",
            AWS_LATENCY["organizations"] * (1 - JITTER) / 10,
            AWS_LATENCY["organizations"] * (1 + JITTER) / 10,
        ),
    ],
)
def test_latency_profiles(
    shared_sandbox: SandboxProcess, profile: str, low: float | None, high: float | None
) -> None:
    slept: list[float] = []
    hooks = SandboxHooks(DEFAULT_QUOTAS, 10.0, profile, False, sleep=slept.append)  # type: ignore[arg-type]
    org = client(shared_sandbox, "organizations")
    hooks.install(org, account=lambda: None)
    for _ in range(5):
        org.describe_organization()
    if low is None:
        assert slept == []
    else:
        assert len(slept) == 5
        assert all(low <= s <= high for s in slept)  # type: ignore[operator]
