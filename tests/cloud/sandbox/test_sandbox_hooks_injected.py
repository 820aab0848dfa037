"""``SandboxHooks.inject_throttling``: the next N calls of one operation are throttled."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from sandbox_support import client

from stockade.cloud.sandbox.hooks import SandboxHooks
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.quotas import DEFAULT_QUOTAS

#: nothing listens there: a call that reaches the network fails to connect, at once
UNREACHABLE = "http://127.0.0.1:9"


def _offline_client(service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=UNREACHABLE,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2),
    )


def _frozen_clock() -> float:
    return 0.0


def test_injected_throttles_answer_the_next_calls_then_stop(
    shared_sandbox: SandboxProcess,
) -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", False)
    org = client(shared_sandbox, "organizations", attempts=1)
    hooks.install(org, account=lambda: None)
    hooks.inject_throttling("organizations", "DescribeOrganization", 2)
    org.list_roots()  # another operation is not affected
    for _ in range(2):
        with pytest.raises(ClientError) as info:
            org.describe_organization()
        error = info.value.response
        assert error["Error"]["Code"] == "TooManyRequestsException"
        assert error["Error"]["Message"] == "Rate exceeded"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    org.describe_organization()  # used up
    assert hooks.throttled == {"organizations.DescribeOrganization": 2}
    assert hooks.calls == 4


def test_botocore_retries_an_injected_throttle(shared_sandbox: SandboxProcess) -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", True)
    org = client(shared_sandbox, "organizations", attempts=2)
    hooks.install(org, account=lambda: None)
    hooks.inject_throttling("organizations", "ListRoots", 1)
    response = org.list_roots()
    assert response["Roots"]
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert hooks.throttled == {"organizations.ListRoots": 1}


def test_throttled_calls_never_leave_the_process_in_any_account() -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", False)
    first, second = _offline_client("sts"), _offline_client("sts")
    hooks.install(first, account=lambda: "111111111111")
    hooks.install(second, account=lambda: "222222222222")
    hooks.inject_throttling("sts", "GetCallerIdentity", 1)
    hooks.inject_throttling("sts", "GetCallerIdentity", 1)  # injections add up
    for sts in (first, second):
        with pytest.raises(ClientError) as info:
            sts.get_caller_identity()
        assert info.value.response["Error"]["Code"] == "Throttling"  # query protocol, XML
    with pytest.raises(EndpointConnectionError):
        first.get_caller_identity()  # the third call is sent (and finds nobody)
    assert hooks.throttled == {"sts.GetCallerIdentity": 2}


def test_injected_throttles_take_no_token_from_the_quota() -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", True, clock=_frozen_clock)
    org = _offline_client("organizations")
    hooks.install(org, account=lambda: None)
    hooks.inject_throttling("organizations", "ListRoots", 1)
    with pytest.raises(ClientError):
        org.list_roots()
    burst = DEFAULT_QUOTAS.get("organizations", "ListRoots").burst
    for _ in range(burst):  # the whole burst is still there: each call is sent
        with pytest.raises(EndpointConnectionError):
            org.list_roots()
    with pytest.raises(ClientError) as info:  # and then the quota throttles as usual
        org.list_roots()
    assert info.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert hooks.throttled == {"organizations.ListRoots": 2}


def test_concurrent_callers_see_exactly_the_injected_count() -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", False)
    threads, calls_each, injected = 8, 10, 50
    clients = [_offline_client("organizations") for _ in range(threads)]
    for org in clients:
        hooks.install(org, account=lambda: None)
    hooks.inject_throttling("organizations", "DescribeOrganization", injected)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(org: Any) -> None:
        for _ in range(calls_each):
            try:
                org.describe_organization()
                outcome = "sent"
            except ClientError:
                outcome = "throttled"
            except EndpointConnectionError:
                outcome = "sent"
            with lock:
                outcomes.append(outcome)

    workers = [threading.Thread(target=run, args=(org,)) for org in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert outcomes.count("throttled") == injected
    assert outcomes.count("sent") == threads * calls_each - injected
    assert hooks.throttled == {"organizations.DescribeOrganization": injected}


@pytest.mark.parametrize("count", [-1, 1.5, True])
def test_injecting_a_bad_count_is_refused(count: Any) -> None:
    hooks = SandboxHooks(DEFAULT_QUOTAS, 1.0, "off", False)
    with pytest.raises(ValueError, match="count"):
        hooks.inject_throttling("organizations", "CreateAccount", count)
