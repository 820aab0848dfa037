"""Stacks as Stockade sees them: desired (from a release), deployed (from tags), recorded.

``desired_stacks`` resolves a release for one tenant (tier, overrides, pins against earlier
releases) into ``DesiredStack`` values: baseline stacks first, then the tier's services, each with
the exact parameters (strings) and their hash. The engine deploys a desired stack with those
parameters plus ``TenantId`` and ``ManagementAccountId``, which it adds itself (they never change
for a tenant), and tags it with ``stack_tags``; ``DeployedStack.from_tags`` reads those tags back
from the account, and ``RecordedStack.from_desired`` is what the database keeps once deployed.

Who calls it: ``domain.plan`` (diffing), the engine (deploying, tagging, recording, reading
stacks back), ``bench/plan.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stockade.domain.errors import NotFoundError
from stockade.domain.release import (
    FEATURES_PARAMETER,
    NO_OVERRIDES,
    TIER_PARAMETER,
    Release,
    ReleaseStack,
    ReleaseTier,
    StackKind,
    TenantOverrides,
    canonical_json,
)

__all__ = [
    "TAG_LEGACY_BASELINE_VERSION",
    "TAG_PARAMS",
    "TAG_RELEASE",
    "TAG_SERVICE",
    "TAG_TEMPLATE",
    "TAG_TENANT",
    "TAG_VERSION",
    "DeployedStack",
    "DesiredStack",
    "RecordedStack",
    "desired_stacks",
    "params_sha256",
    "stack_tags",
]

TAG_TENANT = "stockade:tenant"
TAG_SERVICE = "stockade:service"
TAG_VERSION = "stockade:version"
TAG_TEMPLATE = "stockade:template-sha256"
TAG_PARAMS = "stockade:params-sha256"
TAG_RELEASE = "stockade:release"
#: what onboarding tagged baseline stacks with before releases existed; read as the version
TAG_LEGACY_BASELINE_VERSION = "stockade:baseline-version"


#: a stack in one of these states cannot be updated: it is deleted and created again
def params_sha256(parameters: Mapping[str, str]) -> str:
    """The hash of a stack's parameters, as tagged ``stockade:params-sha256``."""
    return hashlib.sha256(canonical_json(dict(parameters)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class DesiredStack:
    """One stack as a release wants it in one tenant account."""

    stack_name: str
    kind: StackKind
    #: the service name; ``None`` for a baseline stack
    service: str | None
    version: str
    #: the template path as the spec writes it
    template: str
    template_sha256: str
    #: everything the engine passes except ``TenantId`` and ``ManagementAccountId``; shared by
    #: every tenant with the same tier and overrides, so never mutate it
    parameters: Mapping[str, str]
    params_sha256: str
    #: the release this stack comes from: the current one, or the one a pin names
    release_id: str
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class DeployedStack:
    """A stack as it is in the tenant account (``StacksPort.get_stack`` and its tags)."""

    stack_name: str
    status: str
    tenant: str | None = None
    service: str | None = None
    version: str | None = None
    template_sha256: str | None = None
    params_sha256: str | None = None
    release_id: str | None = None

    @classmethod
    def from_tags(
        cls, stack_name: str, status: str, tags: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> DeployedStack:
        tag = dict(tags)
        return cls(
            stack_name=stack_name,
            status=status,
            tenant=tag.get(TAG_TENANT),
            service=tag.get(TAG_SERVICE),
            version=tag.get(TAG_VERSION, tag.get(TAG_LEGACY_BASELINE_VERSION)),
            template_sha256=tag.get(TAG_TEMPLATE),
            params_sha256=tag.get(TAG_PARAMS),
            release_id=tag.get(TAG_RELEASE),
        )


@dataclass(frozen=True, slots=True)
class RecordedStack:
    """What Stockade's database says it last deployed for a stack."""

    stack_name: str
    version: str | None = None
    template_sha256: str | None = None
    params_sha256: str | None = None
    release_id: str | None = None
    #: the parameters deployed, when recorded: lets reasons name the changed parameters
    parameters: Mapping[str, str] | None = None

    @classmethod
    def from_desired(cls, desired: DesiredStack) -> RecordedStack:
        """The record to write once ``desired`` is deployed."""
        return cls(
            stack_name=desired.stack_name,
            version=desired.version,
            template_sha256=desired.template_sha256,
            params_sha256=desired.params_sha256,
            release_id=desired.release_id,
            parameters=dict(desired.parameters),
        )


def stack_tags(tenant_id: str, desired: DesiredStack) -> dict[str, str]:
    """The tags the engine puts on a deployed stack; ``DeployedStack.from_tags`` reads them."""
    tags = {
        TAG_TENANT: tenant_id,
        TAG_VERSION: desired.version,
        TAG_TEMPLATE: desired.template_sha256,
        TAG_PARAMS: desired.params_sha256,
        TAG_RELEASE: desired.release_id,
    }
    if desired.service is not None:
        tags[TAG_SERVICE] = desired.service
    return tags


def _parameters(
    stack: ReleaseStack,
    tier_name: str,
    tier: ReleaseTier,
    overrides: TenantOverrides,
    features: str,
) -> dict[str, str]:
    declared = stack.accepts
    parameters: dict[str, str] = {}
    if declared is not None and FEATURES_PARAMETER in declared:
        parameters[FEATURES_PARAMETER] = features
    parameters.update(stack.parameters)
    for layer in (tier.parameters, overrides.parameters):
        parameters.update({k: v for k, v in layer.items() if stack.declares(k)})
    if stack.service is not None:
        parameters.update(overrides.service_parameters.get(stack.service, {}))
    if declared is not None and TIER_PARAMETER in declared:
        parameters[TIER_PARAMETER] = tier_name
    return parameters


def desired_stacks(
    release: Release,
    tenant_tier: str,
    overrides: TenantOverrides = NO_OVERRIDES,
    releases_by_id: Mapping[str, Release] | None = None,
) -> list[DesiredStack]:
    """The stacks a tenant of ``tenant_tier`` should have under ``release``: baseline stacks in
    order, then the tier's services. Pins are resolved in ``releases_by_id``; raises
    ``NotFoundError`` for an unknown tier, an unknown pinned release, or a pinned release
    without that service."""
    tier = release.tier(tenant_tier)
    features = ",".join(sorted(set(tier.features) | set(overrides.features)))
    sources: list[tuple[ReleaseStack, str, bool]] = [
        (stack, release.release_id, False) for stack in release.baseline
    ]
    for service in tier.services:
        pin = overrides.pins.get(service)
        if pin is None or pin == release.release_id:
            sources.append((release.services[service], release.release_id, pin is not None))
            continue
        pinned = (releases_by_id or {}).get(pin)
        if pinned is None:
            raise NotFoundError(
                f"service {service} is pinned to release {pin[:12]}, which is not known",
                hint="pin to a stored release id, or remove the pin",
            )
        if service not in pinned.services:
            raise NotFoundError(
                f"service {service} is pinned to release {pin[:12]}, which has no {service}",
                hint="pin to a release that includes the service, or remove the pin",
            )
        sources.append((pinned.services[service], pin, True))
    desired = []
    for stack, release_id, pinned_ in sources:
        parameters = _parameters(stack, tenant_tier, tier, overrides, features)
        desired.append(
            DesiredStack(
                stack_name=stack.name,
                kind=stack.kind,
                service=stack.service,
                version=stack.version,
                template=stack.template,
                template_sha256=stack.template_sha256,
                parameters=parameters,
                params_sha256=params_sha256(parameters),
                release_id=release_id,
                pinned=pinned_,
            )
        )
    return desired
