"""A 50-tenant burst against the sandbox with AWS's quotas enforced, on SQLite and PostgreSQL.

The rate budgets keep calls inside AWS's quotas, and no throttling error ever reaches a
workflow: every tenant ends active. (How close the burst gets to the quota bound is measured
by bench/onboard.py, not asserted here.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockade.domain.tenant import TenantRequest, TenantState
from stockade.server.control import ControlPlane, start_control_plane
from stockade.settings import SandboxSettings, Settings

pytestmark = pytest.mark.slow


def _plane(home: Path, database_url: str | None, time_scale: float) -> ControlPlane:
    settings = Settings(home=home, database_url=database_url, onboard_concurrency=50)
    sandbox = SandboxSettings(time_scale=time_scale, latency="fast", enforce_quotas=True)
    return start_control_plane(settings, mode="sandbox", sandbox_settings=sandbox)


def _burst(plane: ControlPlane, count: int, timeout: float = 240) -> list[TenantState]:
    tiers = sorted(plane.spec.spec.tiers)
    for i in range(count):
        plane.service.create_tenant(
            TenantRequest(tenant_id=f"burst-{i:03d}", tier=tiers[i % len(tiers)]), actor="test"
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tenants = plane.repo.list()
        if all(t.state in (TenantState.ACTIVE, TenantState.FAILED) for t in tenants):
            return [t.state for t in tenants]
        time.sleep(0.1)
    raise AssertionError("the burst did not settle in time")


@pytest.fixture
def sqlite_plane(tmp_path: Path) -> Iterator[ControlPlane]:
    plane = _plane(tmp_path, None, time_scale=50)
    try:
        yield plane
    finally:
        plane.close()


def test_fifty_tenant_burst_never_throttled_never_failed(sqlite_plane: ControlPlane) -> None:
    states = _burst(sqlite_plane, 50)
    failed = sqlite_plane.repo.list(state=TenantState.FAILED)
    assert [t.failure_reason for t in failed] == []
    assert states.count(TenantState.ACTIVE) == 50
    hooks = sqlite_plane.hooks
    assert hooks is not None
    # the budgets keep calls inside AWS's quotas; a call that a stalled thread sends a few
    # milliseconds late may still be throttled now and then: the SDK retries it, and it is
    # rare (well under 1 % of calls) and never reaches a workflow (no tenant failed above)
    assert sum(hooks.throttled.values()) <= hooks.calls // 100
    # the budget did have to hold calls back: the burst really pressed against the quotas
    assert sqlite_plane.budget.waited_seconds > 0
    assert sqlite_plane.cloud.organizations().count_accounts() == 51


@pytest.mark.postgres
def test_onboarding_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    """Stockade's tables and DBOS's system tables both in PostgreSQL."""
    plane = _plane(tmp_path, pg_database, time_scale=50)
    try:
        states = _burst(plane, 8)
        assert states == [TenantState.ACTIVE] * 8
        assert plane.audit.verify().ok
    finally:
        plane.close()
    # a restart on the same databases resumes cleanly and keeps every tenant
    plane = _plane(tmp_path, pg_database, time_scale=50)
    try:
        assert plane.service.summary().by_state[TenantState.ACTIVE] == 8
        assert plane.cloud.organizations().count_accounts() == 9
    finally:
        plane.close()
