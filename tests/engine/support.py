"""Helpers for the engine tests: a real control plane, boto3 clients of its sandbox, waiting.

Everything here drives real code: ``start_control_plane`` (SQLite, DBOS, the sandbox child),
and boto3 clients that talk to the same sandbox as the engine does, with the sandbox's
management credentials, so they see the organization the engine built.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

from stockade.domain.tenant import Tenant, TenantState
from stockade.scaffold import example_spec_path
from stockade.server.control import ControlPlane, start_control_plane
from stockade.settings import SandboxSettings, Settings
from stockade.spec.loader import load_spec

#: AWS's quotas enforced, 50x faster than AWS; CreateAccount takes 30 AWS s (0.6 s)
FAST = SandboxSettings(
    time_scale=50.0, latency="off", create_account_delay=30.0, enforce_quotas=True, seed=11
)
SETTLED = frozenset({TenantState.ACTIVE, TenantState.FAILED})
REGION = "us-east-1"


@dataclass(frozen=True)
class PlaneConfig:
    """What makes two control planes interchangeable for tests."""

    sandbox: SandboxSettings = field(default_factory=lambda: FAST)
    #: the fleet spec; None: the packaged example (never ./stockade.yaml)
    spec_path: Path | None = None
    #: extra botocore hooks on every client (``cloud.aws.session.ClientHook``)
    client_hooks: tuple[Any, ...] = ()


class Planes:
    """At most one running control plane per process (DBOS is a per-process singleton).

    ``get`` returns the running plane when it was started with the same config, else closes it
    and starts a new one in a fresh home; ``close`` stops whatever runs.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._current: tuple[PlaneConfig, ControlPlane] | None = None
        self._started = 0

    def get(self, config: PlaneConfig) -> ControlPlane:
        if self._current is not None:
            if self._current[0] == config:
                return self._current[1]
            self.close()
        self._started += 1
        home = self._root / f"plane{self._started}"
        spec = load_spec(config.spec_path or example_spec_path())
        plane = start_control_plane(
            Settings(home=home),
            spec=spec,
            sandbox_settings=config.sandbox,
            client_hooks=config.client_hooks,
        )
        self._current = (config, plane)
        return plane

    def close(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            current[1].close()


def _client(plane: ControlPlane, service: str, account_id: str | None = None) -> Any:
    assert plane.sandbox is not None
    return plane.sandbox.client(
        service,
        account_id=account_id,
        region=REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


def org_client(plane: ControlPlane) -> Any:
    """Organizations in the management account (the organization the engine manages)."""
    return _client(plane, "organizations")


def account_client(plane: ControlPlane, service: str, account_id: str) -> Any:
    """A client acting inside ``account_id`` (moto's account header)."""
    return _client(plane, service, account_id)


def org_accounts(org: Any) -> list[dict[str, Any]]:
    """Every account the organization lists (accounts still being created are hidden)."""
    accounts: list[dict[str, Any]] = []
    for page in org.get_paginator("list_accounts").paginate():
        accounts.extend(page["Accounts"])
    return accounts


def accounts_with_email(org: Any, email: str) -> list[dict[str, Any]]:
    return [a for a in org_accounts(org) if str(a["Email"]).lower() == email.lower()]


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def wait_settled(
    plane: ControlPlane, tenant_ids: Iterable[str], *, timeout: float = 30.0
) -> dict[str, Tenant]:
    """Wait until every tenant is active or failed; return them by id."""
    ids = list(tenant_ids)

    def settled() -> dict[str, Tenant] | None:
        tenants = {tid: plane.repo.get(tid) for tid in ids}
        if all(t.state in SETTLED for t in tenants.values()):
            return tenants
        return None

    result: dict[str, Tenant] = wait_for(settled, timeout=timeout, what=f"{ids} to settle")
    return result


def wait_idle(plane: ControlPlane, *, timeout: float = 30.0) -> None:
    """Wait until no tenant of the plane is still onboarding."""

    def idle() -> bool:
        counts = plane.repo.count_by_state()
        return counts[TenantState.REQUESTED] + counts[TenantState.PROVISIONING] == 0

    wait_for(idle, timeout=timeout, what="every tenant to settle")
