"""Tests of ``DeploymentRepository``: recorded stacks (upsert, bulk read, forget) and the
observed snapshot (replace, never read vs read empty, per-stack refresh)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockade.domain.errors import NotFoundError, ValidationError
from stockade.domain.stacks import DeployedStack, RecordedStack
from stockade.store import DeploymentRepository, TenantRepository

from .store_fleet_support import make_tenant, sha


def recorded(name: str, version: str = "1.0.0", **params: str) -> RecordedStack:
    return RecordedStack(
        stack_name=name,
        version=version,
        template_sha256=sha(name + version),
        params_sha256=sha(repr(sorted(params.items()))),
        release_id=sha("release " + version),
        parameters=params or None,
    )


def deployed(name: str, version: str = "1.0.0", status: str = "CREATE_COMPLETE") -> DeployedStack:
    return DeployedStack(
        stack_name=name,
        status=status,
        tenant="acme",
        service=name.removeprefix("stockade-svc-"),
        version=version,
        template_sha256=sha(name + version),
        params_sha256=sha("p"),
        release_id=sha("release " + version),
    )


def test_record_upserts_and_reads_back(
    tenants: TenantRepository, deployments: DeploymentRepository
) -> None:
    make_tenant(tenants, "acme")
    api = recorded("stockade-svc-api", MemorySize="256")
    deployments.record("acme", api, status="CREATE_COMPLETE", stack_id="arn:1")
    deployments.record("acme", recorded("stockade-access"), status="CREATE_COMPLETE")
    assert deployments.recorded_for("acme") == [recorded("stockade-access"), api]
    newer = recorded("stockade-svc-api", "2.0.0", MemorySize="512")
    deployments.record("acme", newer, status="UPDATE_COMPLETE", stack_id="arn:1")
    assert deployments.recorded_for("acme") == [recorded("stockade-access"), newer]
    [access, svc] = deployments.deployments_for("acme")
    assert (svc.status, svc.stack_id, svc.recorded) == ("UPDATE_COMPLETE", "arn:1", newer)
    assert access.recorded.parameters is None
    assert access.stack_id is None
    assert svc.updated_at.tzinfo is not None
    assert deployments.recorded_for("nobody") == []


def test_record_for_an_unknown_tenant_is_not_found(deployments: DeploymentRepository) -> None:
    with pytest.raises(NotFoundError):
        deployments.record("nope", recorded("x"), status="CREATE_COMPLETE")
    with pytest.raises(NotFoundError):
        deployments.save_observed("nope", [])


def test_recorded_all_reads_the_fleet_in_one_go(
    tenants: TenantRepository, deployments: DeploymentRepository
) -> None:
    for tenant_id in ("a", "b", "c"):
        make_tenant(tenants, tenant_id)
    for tenant_id in ("a", "b"):
        for name in ("s1", "s2", "s3"):
            deployments.record(tenant_id, recorded(name, X="1"), status="CREATE_COMPLETE")
    everything = deployments.recorded_all()
    assert set(everything) == {"a", "b"}
    assert everything["a"] == [recorded(n, X="1") for n in ("s1", "s2", "s3")]
    # equal parameter sets are shared, read-only
    first, second = everything["a"][0].parameters, everything["b"][2].parameters
    assert first is second
    with pytest.raises(TypeError):
        first["X"] = "2"  # type: ignore[index]


def test_forget_removes_the_record_and_the_observed_stack(
    tenants: TenantRepository, deployments: DeploymentRepository
) -> None:
    make_tenant(tenants, "acme")
    deployments.record("acme", recorded("stockade-svc-api"), status="CREATE_COMPLETE")
    deployments.save_observed("acme", [deployed("stockade-svc-api"), deployed("other")])
    assert deployments.forget("acme", "stockade-svc-api") is True
    assert deployments.forget("acme", "stockade-svc-api") is False
    assert deployments.recorded_for("acme") == []
    snapshot = deployments.observed_for("acme")
    assert snapshot is not None
    assert [s.stack_name for s in snapshot.stacks] == ["other"]


def test_observed_snapshot_is_replaced_per_tenant(
    tenants: TenantRepository, deployments: DeploymentRepository
) -> None:
    make_tenant(tenants, "acme")
    make_tenant(tenants, "beta")
    make_tenant(tenants, "gamma")
    assert deployments.observed_for("acme") is None
    earlier = datetime.now(UTC) - timedelta(hours=1)
    deployments.save_observed("acme", [deployed("a"), deployed("b")], observed_at=earlier)
    deployments.save_observed("beta", [deployed("x", status="UPDATE_IN_PROGRESS")])
    deployments.save_observed("gamma", [])
    deployments.save_observed("acme", [deployed("b", "2.0.0"), deployed("c")])
    everything = deployments.observed_all()
    assert set(everything) == {"acme", "beta", "gamma"}  # never-read tenants are absent
    acme = everything["acme"]
    assert acme.stacks == (deployed("b", "2.0.0"), deployed("c"))
    assert acme.observed_at > earlier
    assert everything["beta"].stacks[0].status == "UPDATE_IN_PROGRESS"
    assert everything["gamma"].stacks == ()  # read, and it has none
    assert deployments.observed_for("acme") == acme
    with pytest.raises(ValidationError):
        deployments.save_observed("acme", [deployed("a"), deployed("a")])
    assert deployments.observed_for("acme") == acme


def test_one_stack_refresh_needs_a_snapshot(
    tenants: TenantRepository, deployments: DeploymentRepository
) -> None:
    make_tenant(tenants, "acme")
    assert deployments.observe_stack("acme", deployed("a")) is False
    deployments.record("acme", recorded("a"), status="CREATE_COMPLETE", observed=deployed("a"))
    assert deployments.observed_for("acme") is None
    deployments.save_observed("acme", [deployed("a")])
    deployments.record(
        "acme", recorded("a", "2.0.0"), status="UPDATE_COMPLETE", observed=deployed("a", "2.0.0")
    )
    assert deployments.observe_stack("acme", deployed("b")) is True
    snapshot = deployments.observed_for("acme")
    assert snapshot is not None
    assert snapshot.stacks == (deployed("a", "2.0.0"), deployed("b"))


def test_rows_go_with_their_tenant(
    tenants: TenantRepository, deployments: DeploymentRepository
) -> None:
    make_tenant(tenants, "acme")
    deployments.record("acme", recorded("a"), status="CREATE_COMPLETE")
    deployments.save_observed("acme", [deployed("a")])
    tenants.delete_all()
    assert deployments.recorded_all() == {}
    assert deployments.observed_all() == {}
