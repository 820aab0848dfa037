"""Rollouts over the real engine (SQLite, DBOS, the sandbox): onboarding deploys the current
release's services; a version bump is rolled out in waves through change sets and a rollback
restores the previous release; failures beyond a wave's tolerance halt the rollout, and resume
finishes it; an operator's halt stops it; a tenant built during a rollout gets its release."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rollout_support import (
    set_service_version,
    stack_version,
    wait_services,
    wait_stopped,
    write_test_spec,
)
from engine.support import PlaneConfig, Planes, account_client, wait_settled
from stockade.domain.errors import ConflictError
from stockade.domain.release import TenantOverrides
from stockade.domain.tenant import TenantRequest
from stockade.server.control import ControlPlane
from stockade.store.rollout_types import RolloutState, TenantStatus

R, T = RolloutState, TenantStatus


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_spec(tmp_path_factory.mktemp("rollout-spec"))


@pytest.fixture
def rplane(planes: Planes, spec_path: Path) -> ControlPlane:
    return planes.get(PlaneConfig(spec_path=spec_path))


def onboard(plane: ControlPlane, *ids: str, canary: str | None = None) -> None:
    for tenant_id in ids:
        labels = {"canary": "true"} if tenant_id == canary else {}
        plane.service.create_tenant(
            TenantRequest(tenant_id=tenant_id, tier="free", labels=labels), actor="test"
        )
    tenants = wait_settled(plane, ids, timeout=60)
    failed = {t.tenant_id: t.failure_reason for t in tenants.values() if t.state.value != "active"}
    assert not failed
    wait_services(plane, list(ids))


def versions(plane: ControlPlane, tenant_id: str) -> dict[str, str | None]:
    account = plane.repo.get(tenant_id).account_id or ""
    cfn = account_client(plane, "cloudformation", account)
    return {
        s["StackName"]: stack_version(s.get("Tags", []))
        for s in cfn.describe_stacks()["Stacks"]
        if s["StackName"].startswith("stockade-svc-")
    }


def test_apply_update_and_rollback(rplane: ControlPlane, spec_path: Path) -> None:
    onboard(rplane, "ro-a1", "ro-a2", "ro-a3", canary="ro-a2")
    # onboarding deployed the current release's services for the tier
    assert versions(rplane, "ro-a1") == {
        "stockade-svc-api": "1.0.0",
        "stockade-svc-orders": "1.0.0",
    }
    first = rplane.rollouts.apply(actor="alice")
    assert first.rollout is None and not first.new_release  # nothing to change

    set_service_version(spec_path, "orders", "1.1.0")
    update = rplane.rollouts.apply(actor="alice")
    assert update.rollout is not None and update.new_release
    assert update.rollout.previous_release_id == first.release_id
    assert [w.name for w in update.rollout.waves] == ["canary", "rest"]
    assert update.rollout.waves[0].tenant_ids == ("ro-a2",)
    with pytest.raises(ConflictError):
        rplane.rollouts.apply(actor="bob")  # one open rollout at a time
    updated = wait_stopped(rplane, update.rollout.id)
    assert updated.state is R.COMPLETED, updated.halt_reason
    mine = {t.tenant_id: t for t in updated.tenants or () if t.tenant_id.startswith("ro-a")}
    assert {(t.status, t.operations) for t in mine.values()} == {(T.SUCCEEDED, 1)}
    assert versions(rplane, "ro-a3") == {
        "stockade-svc-api": "1.0.0",
        "stockade-svc-orders": "1.1.0",
    }

    back = rplane.rollouts.rollback_rollout(update.rollout.id, actor="carol")
    assert back.rollback_of == update.rollout.id and back.release_id == first.release_id
    restored = wait_stopped(rplane, back.id)
    assert restored.state is R.COMPLETED, restored.halt_reason
    assert rplane.rollouts.get_rollout(update.rollout.id).state is R.ROLLED_BACK
    assert versions(rplane, "ro-a3")["stockade-svc-orders"] == "1.0.0"
    latest = rplane.releases.latest()
    assert latest is not None and latest.release_id == first.release_id
    set_service_version(spec_path, "orders", "1.0.0")  # the spec agrees with the fleet again


def test_failures_beyond_tolerance_halt_and_resume_finishes(
    rplane: ControlPlane, spec_path: Path
) -> None:
    onboard(rplane, "ro-b1", "ro-b2", "ro-b3")
    overrides = rplane.overrides
    broken = TenantOverrides(service_parameters={"orders": {"Bogus": "1"}})
    overrides.set_overrides("ro-b2", broken, actor="test")
    set_service_version(spec_path, "orders", "1.2.0")
    outcome = rplane.rollouts.apply(actor="alice")
    assert outcome.rollout is not None
    halted = wait_stopped(rplane, outcome.rollout.id)
    assert halted.state is R.HALTED
    assert halted.halt_reason is not None and "tolerance" in halted.halt_reason
    status = {t.tenant_id: t for t in halted.tenants or ()}
    assert status["ro-b2"].status is T.FAILED
    assert "Bogus" in (status["ro-b2"].error or "")
    assert halted.counts[T.PENDING] >= 1  # it stopped starting tenants
    with pytest.raises(ConflictError):  # a halted rollout cannot be halted again
        rplane.rollouts.halt_rollout(outcome.rollout.id, actor="x", reason="again")

    overrides.set_overrides("ro-b2", TenantOverrides(), actor="test")  # fixed
    resumed = rplane.rollouts.resume_rollout(outcome.rollout.id, actor="alice")
    assert resumed.runs == 2
    finished = wait_stopped(rplane, outcome.rollout.id)
    assert finished.state is R.COMPLETED, finished.halt_reason
    b2 = next(t for t in finished.tenants or () if t.tenant_id == "ro-b2")
    assert (b2.status, b2.attempts) == (T.SUCCEEDED, 2)
    assert versions(rplane, "ro-b2")["stockade-svc-orders"] == "1.2.0"


def test_an_operator_halt_stops_starting_tenants(rplane: ControlPlane, spec_path: Path) -> None:
    set_service_version(spec_path, "api", "2.0.0")
    outcome = rplane.rollouts.apply(actor="alice")
    assert outcome.rollout is not None
    rplane.rollouts.halt_rollout(outcome.rollout.id, actor="bob", reason="looks wrong")
    halted = wait_stopped(rplane, outcome.rollout.id)
    assert halted.state is R.HALTED and halted.halt_reason == "looks wrong"
    with pytest.raises(ConflictError):
        rplane.rollouts.halt_rollout(outcome.rollout.id, actor="bob", reason="twice")
    rplane.rollouts.resume_rollout(outcome.rollout.id, actor="bob")
    assert wait_stopped(rplane, outcome.rollout.id).state is R.COMPLETED


def test_a_tenant_built_during_a_rollout_gets_the_current_release(
    rplane: ControlPlane, spec_path: Path
) -> None:
    set_service_version(spec_path, "orders", "3.0.0")
    outcome = rplane.rollouts.apply(actor="alice")
    assert outcome.rollout is not None
    onboard(rplane, "ro-c1")  # not in the rollout: built with the release now current
    assert "ro-c1" not in {t.tenant_id for t in outcome.rollout.tenants or ()}
    assert versions(rplane, "ro-c1")["stockade-svc-orders"] == "3.0.0"
    assert wait_stopped(rplane, outcome.rollout.id).state is R.COMPLETED
