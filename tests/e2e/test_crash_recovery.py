"""SIGKILL `stockade up` while tenants onboard, restart it: nothing lost, nothing doubled."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from e2e.support import (
    alive,
    children_of,
    free_port,
    kill,
    org_accounts,
    start_up,
    tenant_rows,
    wait_for,
)

pytestmark = pytest.mark.slow

TENANTS = 10


def test_sigkill_mid_onboarding_then_restart_finishes_every_tenant_once(tmp_path: Path) -> None:
    db = tmp_path / ".stockade" / "stockade.db"
    env = {"STOCKADE_SANDBOX_TIME_SCALE": "10", "STOCKADE_SANDBOX_LATENCY": "fast"}
    first = start_up(tmp_path, "--demo", str(TENANTS), "--port", str(free_port()), env=env)
    try:
        # kill once some creations are in flight (request ids recorded) and none is active yet
        def mid_onboarding() -> bool:
            rows = tenant_rows(db)
            in_flight = [r for r in rows if r[3] is not None]
            return len(rows) == TENANTS and len(in_flight) >= 3

        wait_for(mid_onboarding, timeout=120, what="creations in flight")
        rows = tenant_rows(db)
        assert not [r for r in rows if r[1] == "active"], "killed too late to test anything"
        sandbox_pids = [p for p in children_of(first.pid) if alive(p)]
        assert sandbox_pids, "the sandbox server should be a child of stockade up"
        kill(first, signal.SIGKILL)
    finally:
        if first.poll() is None:
            kill(first, signal.SIGKILL)
    # no orphan: the sandbox server dies with its parent
    wait_for(lambda: not any(alive(p) for p in sandbox_pids), timeout=10, what="sandbox exit")

    second = start_up(
        tmp_path, "--demo", str(TENANTS), "--port", str(free_port()), "--exit-when-settled", env=env
    )
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output
    assert "restored from its journal" in output

    rows = tenant_rows(db)
    assert len(rows) == TENANTS
    assert Counter(r[1] for r in rows) == {"active": TENANTS}, rows
    accounts = org_accounts(tmp_path / ".stockade" / "sandbox")
    tenant_accounts = [a for a in accounts if a["Email"].startswith("aws+demo-")]
    # exactly one account per tenant, and each is the one the database points at
    assert len(tenant_accounts) == TENANTS
    assert Counter(a["Email"] for a in tenant_accounts).most_common(1)[0][1] == 1
    assert {a["Id"] for a in tenant_accounts} == {r[2] for r in rows}
