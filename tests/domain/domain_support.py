"""Builders for the domain tests: a small fleet spec, its templates' facts, deployed state.

Who uses it: ``test_domain_release.py`` and ``test_domain_plan.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from stockade.domain.release import Release, build_release
from stockade.domain.spec import FleetSpec
from stockade.domain.stacks import (
    DeployedStack,
    DesiredStack,
    RecordedStack,
    stack_tags,
)


@dataclass(frozen=True)
class Facts:
    """What the loader knows of a template: its hash and declared parameters."""

    sha256: str
    parameters: frozenset[str]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


#: template path → declared parameters (besides the engine's TenantId)
TEMPLATES: dict[str, frozenset[str]] = {
    "templates/access.yaml": frozenset({"TenantId", "ManagementAccountId"}),
    "templates/platform.yaml": frozenset({"TenantId", "Tier", "LogRetentionDays"}),
    "templates/api.yaml": frozenset({"TenantId", "Tier", "MemorySize", "Features"}),
    "templates/orders.yaml": frozenset({"TenantId", "MemorySize"}),
    "templates/notifications.yaml": frozenset({"TenantId", "DeliveryDelaySeconds"}),
    "templates/workflows.yaml": frozenset({"TenantId"}),
}


def spec_data() -> dict[str, Any]:
    """A fleet spec as parsed YAML: tests change a copy and build a release from it."""
    return {
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
        "services": {
            "api": {
                "version": "1.0.0",
                "template": "templates/api.yaml",
                "parameters": {"MemorySize": 256},
            },
            "orders": {"version": "1.0.0", "template": "templates/orders.yaml"},
            "notifications": {
                "version": "1.0.0",
                "template": "templates/notifications.yaml",
                "parameters": {"DeliveryDelaySeconds": 0},
            },
            "workflows": {"version": "1.0.0", "template": "templates/workflows.yaml"},
        },
        "tiers": {
            "free": {"services": ["api", "orders"]},
            "pro": {
                "services": ["api", "orders", "notifications"],
                "parameters": {"MemorySize": 1024},
                "features": ["webhooks"],
            },
            "enterprise": {
                "services": ["api", "orders", "notifications", "workflows"],
                "parameters": {"MemorySize": 2048, "LogRetentionDays": 365},
                "features": ["webhooks", "sso"],
            },
        },
    }


def template_facts(changed: Iterable[str] = ()) -> dict[str, Facts]:
    """Facts for every template; templates in ``changed`` get a different hash."""
    changed = set(changed)
    return {
        path: Facts(sha(path + (" v2" if path in changed else "")), params)
        for path, params in TEMPLATES.items()
    }


def release_of(data: dict[str, Any] | None = None, changed: Iterable[str] = ()) -> Release:
    spec = FleetSpec.model_validate(data if data is not None else spec_data())
    return build_release(spec, template_facts(changed))


def deployed_as(
    tenant_id: str, desired: Sequence[DesiredStack], status: str = "CREATE_COMPLETE"
) -> list[DeployedStack]:
    """The account after the engine deployed ``desired`` (tags as the engine writes them)."""
    return [
        DeployedStack.from_tags(d.stack_name, status, stack_tags(tenant_id, d)) for d in desired
    ]


def recorded_as(desired: Sequence[DesiredStack]) -> list[RecordedStack]:
    """The database after the engine recorded deploying ``desired``."""
    return [RecordedStack.from_desired(d) for d in desired]
