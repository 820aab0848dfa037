"""The scan service over a faked cloud: which accounts it reads, and how one account's failure
stays that account's (``engine.scan``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from stockade.domain.credentials import (
    AccessKeyRecord,
    AccountCredentials,
    FindingKind,
    IamUserRecord,
)
from stockade.domain.errors import CloudAccessDenied, ThrottledError
from stockade.domain.tenant import Tenant, TenantState
from stockade.engine.scan import CredentialScanService, ScanProgress

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _tenant(tenant_id: str, state: TenantState, account_id: str | None) -> Tenant:
    return Tenant(
        tenant_id=tenant_id,
        name=tenant_id,
        tier="free",
        state=state,
        account_email=f"{tenant_id}@example.com",
        account_id=account_id,
    )


@dataclass
class FakeTenants:
    tenants: list[Tenant]
    asked: list[frozenset[TenantState]] = field(default_factory=list)

    def in_states(self, states: Iterable[TenantState]) -> list[Tenant]:
        wanted = frozenset(states)
        self.asked.append(wanted)
        return [t for t in self.tenants if t.state in wanted]


@dataclass
class FakeCloud:
    """``failures``: account -> the exception its inventory raises."""

    failures: dict[str, BaseException] = field(default_factory=dict)
    roles: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def credentials(self, *, account_id: str, role_name: str) -> Any:
        with self.lock:
            self.roles.add(role_name)
        cloud = self

        class Port:
            def inventory(self) -> AccountCredentials:
                if account_id in cloud.failures:
                    raise cloud.failures[account_id]
                key = AccessKeyRecord("AKIA" + account_id, True, NOW, None)
                user = IamUserRecord("ci", f"arn:aws:iam::{account_id}:user/ci", (key,))
                return AccountCredentials(account_id, (user,), root_access_keys=False)

        return Port()


FLEET = [
    _tenant("a", TenantState.ACTIVE, "111111111111"),
    _tenant("b", TenantState.SUSPENDED, "222222222222"),
    _tenant("denied", TenantState.ACTIVE, "333333333333"),
    _tenant("throttled", TenantState.ACTIVE, "444444444444"),
    _tenant("broken", TenantState.ACTIVE, "555555555555"),
    _tenant("no-account", TenantState.ACTIVE, None),
]


def _service(cloud: FakeCloud, tenants: FakeTenants, **kwargs: Any) -> CredentialScanService:
    return CredentialScanService(
        tenants=tenants,  # type: ignore[arg-type]
        cloud=cloud,  # type: ignore[arg-type]
        scan_role=lambda: "StockadeScanRole",
        now=lambda: NOW,
        **kwargs,
    )


def test_one_accounts_failure_is_reported_for_it_and_the_scan_goes_on() -> None:
    cloud = FakeCloud(
        failures={
            "333333333333": CloudAccessDenied("sts:AssumeRole: AccessDenied"),
            "444444444444": ThrottledError("iam:ListUsers: Throttling: Rate exceeded"),
            "555555555555": KeyError("surprise"),
        }
    )
    tenants = FakeTenants(FLEET)
    seen: list[ScanProgress] = []

    scan = _service(cloud, tenants, concurrency=2).scan_credentials(progress=seen.append)

    assert tenants.asked == [frozenset({TenantState.ACTIVE, TenantState.SUSPENDED})]
    assert cloud.roles == {"StockadeScanRole"}
    assert scan.accounts == 5 and scan.scanned == 2  # "no-account" has nothing to read
    assert {f.tenant_id for f in scan.findings} == {"a", "b"}
    assert all(f.kind is FindingKind.ACCESS_KEY for f in scan.findings)
    errors = {e.tenant_id: (e.code, e.transient) for e in scan.errors}
    assert errors == {
        "denied": ("STK-1600", False),
        "throttled": ("STK-2101", True),
        "broken": ("STK-0000", False),
    }
    assert not scan.clean
    assert sorted(p.done for p in seen) == [1, 2, 3, 4, 5]
    assert {p.tenant_id for p in seen if not p.ok} == {"denied", "throttled", "broken"}


def test_only_the_named_tenants_are_scanned() -> None:
    cloud = FakeCloud()
    scan = _service(cloud, FakeTenants(FLEET)).scan_credentials(tenant_ids={"b", "nobody"})
    assert scan.accounts == 1
    assert [f.tenant_id for f in scan.findings] == ["b"]
    assert scan.by_kind()[FindingKind.ACCESS_KEY] == 1


def test_an_empty_fleet_is_clean() -> None:
    scan = _service(FakeCloud(), FakeTenants([])).scan_credentials()
    assert scan.clean and scan.accounts == 0 and scan.findings == ()


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        _service(FakeCloud(), FakeTenants([]), concurrency=0)
