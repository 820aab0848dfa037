"""Benchmark: roll a release out to N tenants x S services against the sandbox.

Every stack operation takes ``--latency`` seconds in the sandbox (it stays ``*_IN_PROGRESS``
that long, as on AWS). The fleet is N active tenants with nothing deployed yet (recorded in the
store directly: creating 6,000 accounts through Organizations' quotas takes hours of AWS time
and is what ``bench/onboard.py`` measures); the spec has one tier with S services, each a
one-resource template, and one wave of everyone at concurrency C. ``stockade apply`` then
creates N·S stacks through change sets, each in its tenant's account, through the deploy role.

Prints one JSON object: ``seconds`` (rollout start to completed), ``ideal_seconds``
(``ceil(N·S / C) · L``), ``efficiency`` (ideal / seconds), ``peak_rss_bytes`` (this process:
the control plane), ``sandbox_peak_rss_bytes``, ``cpu_seconds_per_operation`` (this process's
CPU during the rollout per stack operation; ``sandbox_cpu_seconds_per_operation`` for the
sandbox), ``apply_seconds`` (plan + store + start), ``plan_tenants``, ``operations``, and the
counts by tenant status.

    .venv/bin/python bench/rollout.py --tenants 6000 --services 1 --latency 2 --concurrency 200
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

from stockade.domain.tenant import TenantRequest, TenantState
from stockade.server.control import ControlPlane, start_control_plane
from stockade.settings import SandboxSettings, Settings
from stockade.spec.loader import load_spec
from stockade.store.rollout_types import RolloutState, TenantStatus

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Description: Stockade benchmark service {name}.
Parameters:
  TenantId:
    Type: String
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/stockade/${{TenantId}}/{name}"
      Type: String
      Value: "{version}"
"""


def write_spec(directory: Path, *, services: int, concurrency: int, jitter: float) -> Path:
    names = [f"svc{i:02d}" for i in range(services)]
    (directory / "templates").mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / "templates" / f"{name}.yaml").write_text(
            TEMPLATE.format(name=name, version="1")
        )
    spec = {
        "version": 1,
        "naming": {"account_email": "aws+{tenant}@example.com", "account_name": "t-{tenant}"},
        "services": {
            name: {"version": "1.0.0", "template": f"templates/{name}.yaml"} for name in names
        },
        "tiers": {"bench": {"services": names}},
        "rollout": {
            "max_in_flight": concurrency,
            "jitter_seconds": jitter,
            "waves": [
                {
                    "name": "everyone",
                    "percent": 100,
                    "max_concurrency": concurrency,
                    "failure_tolerance": "100%",
                }
            ],
        },
    }
    path = directory / "stockade.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def seed_fleet(plane: ControlPlane, tenants: int) -> None:
    """N active tenants with an account each and nothing deployed (observed empty)."""
    repo = plane.repo
    for i in range(tenants):
        tenant_id = f"bench-{i:05d}"
        repo.create(
            TenantRequest(tenant_id=tenant_id, tier="bench"),
            email=f"aws+{tenant_id}@example.com",
            actor="bench",
        )
        repo.transition(tenant_id, TenantState.PROVISIONING, actor="bench")
        repo.record_account(tenant_id, f"{700000000000 + i:012d}")
        repo.transition(tenant_id, TenantState.ACTIVE, actor="bench")
        plane.deployments.save_observed(tenant_id, [])


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=6000)
    parser.add_argument("--services", type=int, default=1)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per stack operation")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--jitter", type=float, default=0.0, help="rollout.jitter_seconds")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="stockade-bench-rollout-"))
    spec = load_spec(
        write_spec(
            home / "spec",
            services=args.services,
            concurrency=args.concurrency,
            jitter=args.jitter,
        )
    )
    sandbox = SandboxSettings(
        time_scale=1.0, latency="off", stack_seconds=args.latency, enforce_quotas=True
    )
    plane = start_control_plane(
        Settings(home=home / "state"), mode="sandbox", spec=spec, sandbox_settings=sandbox
    )
    try:
        seed_fleet(plane, args.tenants)
        # what an operator runs before applying: read every account (through the org access
        # role). It also makes the sandbox create each account's moto backends, which a real
        # fleet's onboarding would have done; neither is part of the rollout being measured.
        warm_began = time.monotonic()
        plane.planner.plan(refresh=True)
        warm_seconds = time.monotonic() - warm_began
        assert plane.sandbox is not None
        cpu0, sb_cpu0 = _own_cpu(), plane.sandbox.usage().cpu_seconds
        began = time.monotonic()
        outcome = plane.rollouts.apply(actor="bench")
        applied = time.monotonic()
        if outcome.rollout is None:
            print(json.dumps({"error": "nothing to roll out"}))
            return 1
        rollout_id = outcome.rollout.id
        while True:
            rollout = plane.rollouts.get_rollout(rollout_id, tenants=False)
            if rollout.state is not RolloutState.RUNNING and not plane.rollouts.run_active(rollout):
                break
            time.sleep(0.25)
        done = time.monotonic()
        rollout = plane.rollouts.get_rollout(rollout_id)
        cpu = _own_cpu() - cpu0
        usage = plane.sandbox.usage()
        sb_cpu, sb_hwm = usage.cpu_seconds - sb_cpu0, usage.peak_rss_bytes
        operations = sum(t.operations for t in rollout.tenants or ())
        failed = TenantStatus.FAILED
        errors = sorted({t.error or "" for t in rollout.tenants or () if t.status is failed})
        seconds = done - applied
        ideal = math.ceil(args.tenants * args.services / args.concurrency) * args.latency
        print(
            json.dumps(
                {
                    "tenants": args.tenants,
                    "services": args.services,
                    "latency": args.latency,
                    "concurrency": args.concurrency,
                    "jitter_seconds": args.jitter,
                    "state": rollout.state.value,
                    "seconds": round(seconds, 2),
                    "ideal_seconds": ideal,
                    "efficiency": round(ideal / seconds, 3) if seconds > 0 else None,
                    "apply_seconds": round(applied - began, 2),
                    "refresh_plan_seconds": round(warm_seconds, 2),
                    "operations": operations,
                    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                    "sandbox_peak_rss_bytes": sb_hwm,
                    "cpu_seconds_per_operation": round(cpu / max(operations, 1), 5),
                    "sandbox_cpu_seconds_per_operation": round(sb_cpu / max(operations, 1), 5),
                    "tenant_status": {s.value: n for s, n in rollout.counts.items() if n},
                    "failures": errors[:3],
                }
            )
        )
        return 0 if rollout.state is RolloutState.COMPLETED else 1
    finally:
        plane.close()


if __name__ == "__main__":
    sys.exit(main())
