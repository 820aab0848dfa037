"""Helpers for rollout tests over the real engine: an editable copy of the example spec, and
waiting for a rollout to stop.

Who uses it: ``tests/engine/test_rollout_engine.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from engine.support import wait_for
from stockade.scaffold import write_scaffold
from stockade.server.control import ControlPlane
from stockade.store.rollout_types import Rollout, RolloutState

#: waves for tests: canaries first (labelled canary=true), then everyone one at a time
TEST_ROLLOUT = {
    "max_in_flight": 20,
    "jitter_seconds": 0,
    "waves": [
        {"name": "canary", "selector": {"canary": "true"}, "max_concurrency": 2},
        {"name": "rest", "percent": 100, "max_concurrency": 1, "failure_tolerance": 0},
    ],
}
STOPPED = frozenset(
    {RolloutState.HALTED, RolloutState.COMPLETED, RolloutState.FAILED, RolloutState.ROLLED_BACK}
)


def write_test_spec(directory: Path) -> Path:
    """The example spec with ``TEST_ROLLOUT`` as its rollout policy; returns its path."""
    write_scaffold(directory)
    path = directory / "stockade.yaml"
    document = yaml.safe_load(path.read_text())
    document["rollout"] = TEST_ROLLOUT
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def set_service_version(spec_path: Path, service: str, version: str) -> None:
    """Edit the spec on disk as a user would (the mtime moves even within one tick)."""
    document = yaml.safe_load(spec_path.read_text())
    document["services"][service]["version"] = version
    before = spec_path.stat().st_mtime_ns
    spec_path.write_text(yaml.safe_dump(document, sort_keys=False))
    if spec_path.stat().st_mtime_ns == before:  # coarse clocks
        time.sleep(0.01)
        spec_path.touch()


def wait_stopped(plane: ControlPlane, rollout_id: str, *, timeout: float = 60.0) -> Rollout:
    """Wait until the rollout is no longer pending or running (nor still finishing)."""

    def stopped() -> Rollout | None:
        rollout = plane.rollouts.get_rollout(rollout_id, tenants=False)
        if rollout.state in STOPPED and not plane.rollouts.run_active(rollout):
            return plane.rollouts.get_rollout(rollout_id)
        return None

    result: Rollout = wait_for(stopped, timeout=timeout, what=f"rollout {rollout_id} to stop")
    return result


def stack_version(tags: list[dict[str, str]]) -> str | None:
    return next((t["Value"] for t in tags if t["Key"] == "stockade:version"), None)


def wait_services(plane: ControlPlane, tenant_ids: list[str], *, timeout: float = 60.0) -> None:
    """Wait until onboarding has recorded every service stack of each tenant's tier."""
    spec = plane.spec.spec

    def deployed() -> bool:
        for tenant_id in tenant_ids:
            tenant = plane.repo.get(tenant_id)
            wanted = {f"stockade-svc-{s}" for s in spec.tiers[tenant.tier].services}
            recorded = {r.stack_name for r in plane.deployments.recorded_for(tenant_id)}
            if not wanted <= recorded:
                return False
        return True

    wait_for(deployed, timeout=timeout, what=f"services of {tenant_ids}")
