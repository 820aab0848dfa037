"""Tests of ``OverridesRepository``: round trips, audit, the fleet-wide read."""

from __future__ import annotations

import pytest

from stockade.domain.errors import NotFoundError
from stockade.domain.release import NO_OVERRIDES, TenantOverrides
from stockade.store import AuditLog, OverridesRepository, TenantRepository

from .store_fleet_support import make_tenant

PIN = "ab" * 32


def sample() -> TenantOverrides:
    return TenantOverrides(
        parameters={"MemorySize": 2048, "Debug": True},
        service_parameters={"api": {"Timeout": 30}},
        pins={"orders": PIN},
        features=("zeta", "alpha", "zeta"),
    )


def test_a_new_tenant_has_no_overrides(
    tenants: TenantRepository, overrides: OverridesRepository
) -> None:
    make_tenant(tenants, "acme")
    assert overrides.get_overrides("acme") is NO_OVERRIDES


def test_overrides_round_trip_and_are_audited(
    tenants: TenantRepository, overrides: OverridesRepository, audit: AuditLog
) -> None:
    make_tenant(tenants, "acme")
    wanted = sample()
    assert overrides.set_overrides("acme", wanted, actor="alice") == wanted
    loaded = overrides.get_overrides("acme")
    assert loaded == wanted
    assert loaded.parameters == {"MemorySize": "2048", "Debug": "true"}
    assert loaded.service_parameters == {"api": {"Timeout": "30"}}
    assert loaded.pins == {"orders": PIN}
    assert loaded.features == ("alpha", "zeta")
    assert loaded.key == wanted.key
    [event] = audit.list(action="tenant.overrides")
    assert (event.actor, event.subject) == ("alice", "acme")
    assert event.details["before"] == {}
    assert event.details["after"]["pins"] == {"orders": PIN}
    # the same overrides again: nothing changes, nothing is recorded
    overrides.set_overrides("acme", sample(), actor="bob")
    assert len(audit.list(action="tenant.overrides")) == 1
    # clearing them
    overrides.set_overrides("acme", TenantOverrides(), actor="bob")
    assert overrides.get_overrides("acme") is NO_OVERRIDES
    assert len(audit.list(action="tenant.overrides")) == 2
    assert audit.verify().ok
    # the tenant record itself is untouched
    assert tenants.get("acme").tier == "free"


def test_unknown_tenant_is_not_found(overrides: OverridesRepository) -> None:
    with pytest.raises(NotFoundError):
        overrides.get_overrides("nope")
    with pytest.raises(NotFoundError):
        overrides.set_overrides("nope", sample(), actor="alice")


def test_overrides_for_all_reads_every_tenant_and_shares_equal_ones(
    tenants: TenantRepository, overrides: OverridesRepository
) -> None:
    for tenant_id in ("a", "b", "c", "d"):
        make_tenant(tenants, tenant_id)
    overrides.set_overrides("b", sample(), actor="alice")
    overrides.set_overrides("c", sample(), actor="alice")
    overrides.set_overrides("d", TenantOverrides(features=("beta",)), actor="alice")
    everything = overrides.overrides_for_all()
    assert set(everything) == {"a", "b", "c", "d"}
    assert everything["a"] is NO_OVERRIDES
    assert everything["b"] == sample()
    assert everything["b"] is everything["c"]
    assert everything["d"].features == ("beta",)
    assert overrides.overrides_for_all() is not everything
