"""Benchmark: plan a whole fleet (``domain.plan.plan_fleet``) against synthetic deployed state.

Builds a release with S services and the release after it (two services bumped, one tier
parameter changed), N tenants deployed at the earlier release (85 % on a tier with every
service, 15 % on one with half; 5 % with parameter overrides, 1 % pinned) and some drift: stacks
changed out of band, failed, deleted by hand, stale managed stacks and unmanaged ones. Then times
planning the new release for the whole fleet, with Stockade's records consulted.

Prints one JSON object: ``tenants``, ``services``, ``stack_instances`` (stacks planned),
``seconds`` (``plan_fleet`` alone), ``peak_rss_bytes``, plus ``setup_seconds`` and the counts.

    .venv/bin/python bench/plan.py [--tenants 6000] [--services 20]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, replace
from typing import Any

from stockade.domain.plan import TenantSnapshot, plan_fleet
from stockade.domain.release import Release, TenantOverrides, build_release
from stockade.domain.spec import FleetSpec
from stockade.domain.stacks import (
    DeployedStack,
    DesiredStack,
    RecordedStack,
    desired_stacks,
    stack_tags,
)


@dataclass(frozen=True)
class _Facts:
    sha256: str
    parameters: frozenset[str]


def _spec(services: int, bumped: bool) -> tuple[FleetSpec, dict[str, _Facts]]:
    names = [f"svc{i:02d}" for i in range(services)]
    templates = {
        "templates/access.yaml": _Facts(_sha("access"), frozenset({"TenantId"})),
        "templates/platform.yaml": _Facts(
            _sha("platform"), frozenset({"TenantId", "Tier", "LogRetentionDays"})
        ),
    }
    service_specs: dict[str, Any] = {}
    for index, name in enumerate(names):
        path = f"templates/{name}.yaml"
        templates[path] = _Facts(
            _sha(path), frozenset({"TenantId", "Tier", "MemorySize", "Features"})
        )
        version = "1.1.0" if bumped and index in (0, 1) else "1.0.0"
        service_specs[name] = {
            "version": version,
            "template": path,
            "parameters": {"MemorySize": 128 + 64 * (index % 4)},
        }
    data = {
        "baseline": {
            "version": "1.0.0",
            "stacks": [
                {"name": "stockade-access", "template": "templates/access.yaml"},
                {
                    "name": "stockade-platform",
                    "template": "templates/platform.yaml",
                    "parameters": {"LogRetentionDays": 90},
                },
            ],
        },
        "services": service_specs,
        "tiers": {
            "full": {
                "services": names,
                "features": ["webhooks", "sso"],
                "parameters": {"LogRetentionDays": 365 if bumped else 180},
            },
            "lite": {"services": names[: max(1, services // 2)]},
        },
    }
    return FleetSpec.model_validate(data), templates


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _release(services: int, bumped: bool) -> Release:
    spec, templates = _spec(services, bumped)
    return build_release(spec, templates)


def _tenants(count: int, old: Release, rng: random.Random) -> list[TenantSnapshot]:
    overrides_pool = [TenantOverrides(parameters={"MemorySize": 512 + 64 * i}) for i in range(10)]
    pin = next(iter(old.services))
    pinned = TenantOverrides(pins={pin: old.release_id})
    memo: dict[tuple[str, str], tuple[list[DesiredStack], list[RecordedStack]]] = {}
    snapshots = []
    for i in range(count):
        tenant_id = f"tenant-{i:05d}"
        tier = "lite" if rng.random() < 0.15 else "full"
        roll = rng.random()
        overrides = (
            pinned
            if roll < 0.01
            else rng.choice(overrides_pool)
            if roll < 0.06
            else TenantOverrides()
        )
        key = (tier, overrides.key)
        if key not in memo:
            desired = desired_stacks(old, tier, overrides, {old.release_id: old})
            memo[key] = (desired, [RecordedStack.from_desired(d) for d in desired])
        desired, records = memo[key]
        deployed = [
            DeployedStack.from_tags(d.stack_name, "UPDATE_COMPLETE", stack_tags(tenant_id, d))
            for d in desired
        ]
        recorded = list(records)
        drift = rng.random()
        if drift < 0.01:  # parameters changed out of band
            k = rng.randrange(len(deployed))
            deployed[k] = replace(deployed[k], params_sha256=_sha(f"oob{i}"))
        elif drift < 0.015:  # a failed stack
            k = rng.randrange(len(deployed))
            deployed[k] = replace(deployed[k], status="ROLLBACK_COMPLETE")
        elif drift < 0.02:  # deleted by hand
            del deployed[rng.randrange(2, len(deployed))]
        elif drift < 0.03:  # a managed stack no longer in the release
            deployed.append(
                DeployedStack.from_tags(
                    "stockade-svc-legacy", "CREATE_COMPLETE", {"stockade:tenant": tenant_id}
                )
            )
        elif drift < 0.04:  # somebody else's stack
            deployed.append(DeployedStack("their-own-stack", "CREATE_COMPLETE"))
        snapshots.append(TenantSnapshot(tenant_id, tier, deployed, overrides, recorded))
    return snapshots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=6000)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    old = _release(args.services, bumped=False)
    new = _release(args.services, bumped=True)
    tenants = _tenants(args.tenants, old, random.Random(args.seed))
    setup = time.perf_counter() - started

    started = time.perf_counter()
    plan = plan_fleet(new, tenants, {old.release_id: old})
    seconds = time.perf_counter() - started

    result = {
        "tenants": args.tenants,
        "services": args.services,
        "stack_instances": sum(plan.counts.values()),
        "seconds": round(seconds, 3),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "setup_seconds": round(setup, 3),
        "counts": {action.value: n for action, n in plan.counts.items()},
        "tenants_changed": plan.tenants_changed,
        "tenants_failed": plan.tenants_failed,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
