"""Builders for the store's fleet-deployment tests: releases, tenants and wave plans.

Who uses it: ``test_store_releases.py``, ``test_store_overrides.py``,
``test_store_deployments.py`` and ``test_store_rollouts.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from stockade.domain.release import Release, ReleaseStack, ReleaseTier, StackKind
from stockade.domain.tenant import TenantRequest
from stockade.domain.waves import WavePlan
from stockade.store import TenantRepository


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_release(version: str = "1.0.0", services: Sequence[str] = ("api", "orders")) -> Release:
    """A small release: one baseline stack, ``services`` at ``version``, tiers free and pro."""
    baseline = ReleaseStack(
        name="stockade-access",
        kind=StackKind.BASELINE,
        version="1.0.0",
        template="templates/access.yaml",
        template_sha256=sha("access"),
        accepts=("ManagementAccountId", "TenantId"),
    )
    stacks = {
        name: ReleaseStack(
            name=f"stockade-svc-{name}",
            kind=StackKind.SERVICE,
            service=name,
            version=version,
            template=f"templates/{name}.yaml",
            template_sha256=sha(f"{name} {version}"),
            parameters={"MemorySize": 256},
            accepts=("MemorySize", "TenantId", "Tier"),
        )
        for name in services
    }
    return Release(
        baseline=(baseline,),
        services=stacks,
        tiers={
            "free": ReleaseTier(services=tuple(services)[:1]),
            "pro": ReleaseTier(
                services=tuple(services), parameters={"MemorySize": 1024}, features=("hooks",)
            ),
        },
    )


def make_tenant(tenants: TenantRepository, tenant_id: str, tier: str = "free") -> None:
    tenants.create(
        TenantRequest(tenant_id=tenant_id, tier=tier, name=tenant_id),
        email=f"{tenant_id}@example.com",
        actor="alice",
    )


def wave(
    name: str,
    tenant_ids: Sequence[str],
    *,
    index: int = 0,
    max_concurrency: int = 10,
    failure_tolerance: int | str = 0,
) -> WavePlan:
    return WavePlan(
        name=name,
        index=index,
        tenant_ids=tuple(tenant_ids),
        max_concurrency=max_concurrency,
        failure_tolerance=failure_tolerance,
    )
