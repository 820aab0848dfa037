"""Benchmark: onboard N tenants at once against the sandbox with AWS's quotas enforced.

Prints one JSON object: tenants, seconds (first request to last tenant active), the bound that
CreateAccount's quota sets (``quota_bound_seconds``), ``ratio`` = seconds / bound, and
``peak_rss_bytes`` (this process plus the sandbox server), plus the throttling seen.

    .venv/bin/python bench/onboard.py --tenants 50 [--time-scale 20] [--delay 60]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from stockade.domain.quotas import DEFAULT_QUOTAS, create_account_bound
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.server.control import start_control_plane
from stockade.settings import SandboxSettings, Settings


def _vm_hwm(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument("--delay", type=float, default=60.0, help="CreateAccount delay, AWS s")
    parser.add_argument("--latency", default="fast", choices=["off", "fast", "aws-like"])
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="stockade-bench-"))
    settings = Settings(home=home, onboard_concurrency=max(50, args.tenants))
    sandbox = SandboxSettings(
        time_scale=args.time_scale,
        create_account_delay=args.delay,
        latency=args.latency,
        enforce_quotas=True,
    )
    plane = start_control_plane(settings, mode="sandbox", sandbox_settings=sandbox)
    try:
        tiers = sorted(plane.spec.spec.tiers)
        started = time.monotonic()
        for i in range(args.tenants):
            plane.service.create_tenant(
                TenantRequest(tenant_id=f"bench-{i:05d}", tier=tiers[i % len(tiers)]),
                actor="bench",
            )
        while True:
            counts = plane.repo.count_by_state()
            settled = counts[TenantState.ACTIVE] + counts[TenantState.FAILED]
            if settled >= args.tenants:
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        quota = DEFAULT_QUOTAS.get("organizations", "CreateAccount").scaled(args.time_scale)
        bound = create_account_bound(args.tenants, delay=args.delay / args.time_scale, quota=quota)
        failed = plane.repo.list(state=TenantState.FAILED)
        sandbox_rss = _vm_hwm(plane.sandbox.pid if plane.sandbox else None)
        own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        hooks = plane.hooks
        result = {
            "tenants": args.tenants,
            "seconds": round(seconds, 3),
            "quota_bound_seconds": round(bound, 3),
            "ratio": round(seconds / bound, 3) if bound else None,
            "peak_rss_bytes": own_rss + sandbox_rss,
            "peak_rss_bytes_engine": own_rss,
            "peak_rss_bytes_sandbox": sandbox_rss,
            "active": counts[TenantState.ACTIVE],
            "failed": len(failed),
            "failure_reasons": sorted({t.failure_reason or "" for t in failed}),
            "throttled_by_sandbox": hooks.throttled if hooks else {},
            "aws_calls": hooks.calls if hooks else None,
            "budget_wait_seconds": round(plane.budget.waited_seconds, 3),
            "time_scale": args.time_scale,
            "create_account_delay_aws_seconds": args.delay,
            "latency": args.latency,
        }
    finally:
        plane.close()
    print(json.dumps(result))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
