"""Helpers shared by the sandbox tests: clients, polling, process checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.settings import SandboxSettings

#: CreateAccount stays IN_PROGRESS for 60 AWS seconds / 60 = 1 s of wall time
FAST = SandboxSettings(time_scale=60.0, create_account_delay=60.0, latency="off", seed=7)


def client(sandbox: SandboxProcess, service: str, *, attempts: int = 1, **kwargs: Any) -> Any:
    """A real boto3 client pointed at the sandbox: ``attempts`` in all (1 = no retry)."""
    params: dict[str, Any] = {
        "endpoint_url": sandbox.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    }
    params.update(kwargs)
    return boto3.client(service, **params)


def client_in(sandbox: SandboxProcess, service: str, account_id: str) -> Any:
    """A client acting in ``account_id`` through moto's ``x-moto-account-id`` header."""
    return sandbox.client(
        service,
        account_id=account_id,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def wait_for(predicate: Callable[[], Any], *, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state != "Z"


def wait_settled(
    org: Any, request_ids: list[str], *, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Poll DescribeCreateAccountStatus until no request is IN_PROGRESS; return the statuses."""

    def settled() -> list[dict[str, Any]] | None:
        statuses = [
            org.describe_create_account_status(CreateAccountRequestId=rid)["CreateAccountStatus"]
            for rid in request_ids
        ]
        return None if any(s["State"] == "IN_PROGRESS" for s in statuses) else statuses

    result: list[dict[str, Any]] = wait_for(settled, timeout=timeout)
    return result
