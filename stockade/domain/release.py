"""Releases: immutable, content-hashed versions of what the fleet should run; tenant overrides.

A ``Release`` holds the baseline stacks and the services (each with its version, template path,
template sha256 and default parameters) and the tiers (which services, tier parameters,
features, observability). ``build_release`` makes one from a ``FleetSpec`` and the templates'
hashes, so the domain reads no file. ``release_id`` is the sha256 of a canonical JSON of that
content: the same content gives the same id (comments or key order in ``stockade.yaml`` do not
matter, and parameter values are compared as the strings CloudFormation receives, so ``256`` and
``"256"`` are the same); any change of version, parameter, template, tier or feature gives a new
id. A stored release is checked against its id when it is loaded again.

``TenantOverrides`` is what one tenant changes on top of its tier. **Parameter precedence**,
lowest first: service (or baseline stack) defaults < tier parameters < the tenant's global
parameters < the tenant's parameters for that service. Tier parameters and the tenant's global
parameters reach only the stacks whose template declares them (when the templates' parameters
are known, see ``TemplateFacts``); a tenant's per-service parameters are applied as written.
**Pins** map a service to a *release id*: the tenant keeps getting that service as it was in that
release (its version, template and default parameters), while the tier parameters, features and
the tenant's overrides still come from the current release and settings. **Features** are the
tier's plus the tenant's extra ones; a template that declares a ``Features`` parameter receives
them comma-separated, sorted.

Who calls it: the engine (building and storing a release when a spec is applied), the API and
CLI (showing and validating releases and overrides), ``domain.plan`` (desired stacks).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stockade.domain.errors import NotFoundError, SpecError
from stockade.domain.spec import FleetSpec, ParamValue

__all__ = [
    "FEATURES_PARAMETER",
    "NO_OVERRIDES",
    "SERVICE_STACK_PREFIX",
    "TIER_PARAMETER",
    "Release",
    "ReleaseStack",
    "ReleaseTier",
    "StackKind",
    "TemplateFacts",
    "TenantOverrides",
    "build_release",
    "canonical_json",
    "check_overrides",
    "param_str",
    "service_stack_name",
]

#: every service stack is named this prefix plus the service name
SERVICE_STACK_PREFIX = "stockade-svc-"
#: a template declaring this parameter receives the tenant's tier name
TIER_PARAMETER = "Tier"
#: a template declaring this parameter receives the tenant's features, sorted, comma-separated
FEATURES_PARAMETER = "Features"

_RELEASE_ID = re.compile(r"^[0-9a-f]{64}$")
_HASH_PREFIX = b"stockade-release/1\n"


def service_stack_name(service: str) -> str:
    """The CloudFormation stack name of ``service`` in every tenant account."""
    return SERVICE_STACK_PREFIX + service


def param_str(value: ParamValue) -> str:
    """A parameter value as CloudFormation receives it: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _strs(parameters: Mapping[str, ParamValue]) -> dict[str, str]:
    return {key: param_str(value) for key, value in parameters.items()}


def _param_strs(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: param_str(item) if isinstance(item, str | int | float | bool) else item
            for key, item in value.items()
        }
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class TemplateFacts(Protocol):
    """What a release needs to know of a template (``spec.loader.TemplateInfo`` fits)."""

    @property
    def sha256(self) -> str: ...

    @property
    def parameters(self) -> frozenset[str]: ...


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StackKind(StrEnum):
    BASELINE = "baseline"
    SERVICE = "service"


class ReleaseStack(_Frozen):
    """One stack as a release defines it, before tier and tenant parameters."""

    name: str
    kind: StackKind
    #: the service name; ``None`` for a baseline stack
    service: str | None = None
    version: str
    #: the template path as the spec writes it (relative to the spec's directory)
    template: str
    template_sha256: str
    parameters: dict[str, str] = Field(default_factory=dict)
    #: the parameter names the template declares, sorted; ``None`` when not known
    accepts: tuple[str, ...] | None = None

    @field_validator("parameters", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        return _param_strs(value)

    def declares(self, parameter: str) -> bool:
        """Whether tier and tenant-wide parameters named ``parameter`` reach this stack."""
        return self.accepts is None or parameter in self.accepts


class ReleaseTier(_Frozen):
    services: tuple[str, ...] = ()
    parameters: dict[str, str] = Field(default_factory=dict)
    #: sorted, without duplicates
    features: tuple[str, ...] = ()
    observability: str = "standard"

    @field_validator("parameters", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        return _param_strs(value)

    @field_validator("features")
    @classmethod
    def _sorted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))


class Release(_Frozen):
    """An immutable, content-hashed version of the fleet's desired state.

    Leave ``release_id`` empty to have it computed; a given id must match the content
    (a stored release that was altered fails to load).
    """

    release_id: str = ""
    #: deployed in this order, before any service
    baseline: tuple[ReleaseStack, ...] = ()
    services: dict[str, ReleaseStack] = Field(default_factory=dict)
    tiers: dict[str, ReleaseTier] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identity(self) -> Release:
        computed = hashlib.sha256(_HASH_PREFIX + self.content_json().encode()).hexdigest()
        if not self.release_id:
            object.__setattr__(self, "release_id", computed)
        elif self.release_id != computed:
            raise ValueError(
                f"release {self.release_id} does not match its content (sha256 {computed})"
            )
        for name, stack in self.services.items():
            if stack.kind is not StackKind.SERVICE or stack.service != name:
                raise ValueError(f"services[{name!r}] is not the stack of service {name!r}")
        for tier_name, tier in self.tiers.items():
            unknown = [s for s in tier.services if s not in self.services]
            if unknown:
                raise ValueError(f"tier {tier_name!r} uses unknown services {unknown}")
        return self

    def content_json(self) -> str:
        """The canonical JSON the id is the sha256 of (everything but the id)."""
        return canonical_json(self.model_dump(mode="json", exclude={"release_id"}))

    @property
    def short_id(self) -> str:
        return self.release_id[:12]

    def tier(self, name: str) -> ReleaseTier:
        try:
            return self.tiers[name]
        except KeyError:
            raise NotFoundError(
                f"release {self.short_id} has no tier {name!r}",
                hint="tiers in this release: " + (", ".join(sorted(self.tiers)) or "none"),
            ) from None


def _facts(
    templates: Mapping[str, str | TemplateFacts], path: str, where: str
) -> tuple[str, tuple[str, ...] | None]:
    try:
        facts = templates[path]
    except KeyError:
        raise SpecError(
            f"{where}: no hash for template {path!r}",
            hint="build the release from a loaded spec, which reads every template",
        ) from None
    if isinstance(facts, str):
        return facts, None
    return facts.sha256, tuple(sorted(facts.parameters))


def build_release(spec: FleetSpec, templates: Mapping[str, str | TemplateFacts]) -> Release:
    """The release ``spec`` describes. ``templates`` maps each template path (as the spec writes
    it) to its sha256, or to an object with ``sha256`` and declared ``parameters`` (such as the
    loader's ``TemplateInfo``); only with the latter can tier-wide and tenant-wide parameters,
    ``Tier`` and ``Features`` be limited to the templates that declare them."""
    baseline = []
    for index, stack in enumerate(spec.baseline.stacks):
        sha, accepts = _facts(templates, stack.template, f"baseline.stacks[{index}]")
        baseline.append(
            ReleaseStack(
                name=stack.name,
                kind=StackKind.BASELINE,
                version=spec.baseline.version,
                template=stack.template,
                template_sha256=sha,
                parameters=_strs(stack.parameters),
                accepts=accepts,
            )
        )
    services = {}
    for name, service in spec.services.items():
        sha, accepts = _facts(templates, service.template, f"services.{name}")
        services[name] = ReleaseStack(
            name=service_stack_name(name),
            kind=StackKind.SERVICE,
            service=name,
            version=service.version,
            template=service.template,
            template_sha256=sha,
            parameters=_strs(service.parameters),
            accepts=accepts,
        )
    names = [stack.name for stack in baseline] + [stack.name for stack in services.values()]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise SpecError(
            f"stack name {clash[0]!r} is used twice",
            hint=f"service stacks are named {SERVICE_STACK_PREFIX}<service>; rename the "
            "baseline stack",
        )
    tiers = {
        name: ReleaseTier(
            services=tier.services,
            parameters=_strs(tier.parameters),
            features=tier.features,
            observability=tier.observability,
        )
        for name, tier in spec.tiers.items()
    }
    return Release(baseline=tuple(baseline), services=services, tiers=tiers)


class TenantOverrides(_Frozen):
    """One tenant's changes on top of its tier (see the module docstring for precedence)."""

    #: for every stack whose template declares the parameter
    parameters: dict[str, str] = Field(default_factory=dict)
    #: service name → parameters for that service's stack only (the highest precedence)
    service_parameters: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: service name → release id: keep deploying the service as it was in that release
    pins: dict[str, str] = Field(default_factory=dict)
    #: features on top of the tier's
    features: tuple[str, ...] = ()

    @field_validator("parameters", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        return _param_strs(value)

    @field_validator("service_parameters", mode="before")
    @classmethod
    def _stringify_each(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: _param_strs(item) for key, item in value.items()}
        return value

    @field_validator("pins")
    @classmethod
    def _release_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for service, release_id in value.items():
            if not _RELEASE_ID.match(release_id):
                raise ValueError(
                    f"pin of {service!r} must be a full release id (64 hex digits), "
                    f"got {release_id!r}"
                )
        return value

    @field_validator("features")
    @classmethod
    def _sorted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not feature.strip() for feature in value):
            raise ValueError("feature names must not be empty")
        return tuple(sorted(set(value)))

    @cached_property
    def key(self) -> str:
        """Canonical JSON of the overrides: equal overrides give equal keys (a memo key)."""
        return canonical_json(self.model_dump(mode="json"))


NO_OVERRIDES = TenantOverrides()


def check_overrides(
    release: Release,
    tier: str,
    overrides: TenantOverrides,
    releases_by_id: Mapping[str, Release],
) -> list[str]:
    """Problems with ``overrides`` for a tenant of ``tier`` under ``release``, one line each:
    pins to unknown releases or services, and parameters no template of the tenant declares."""
    problems: list[str] = []
    services = release.tier(tier).services
    for service, release_id in sorted(overrides.pins.items()):
        pinned = releases_by_id.get(release_id)
        if pinned is None:
            problems.append(f"{service} is pinned to unknown release {release_id[:12]}")
        elif service not in pinned.services:
            problems.append(f"{service} is pinned to release {release_id[:12]}, which lacks it")
        elif service not in services:
            problems.append(f"{service} is pinned but tier {tier!r} does not include it")
    stacks = [*release.baseline, *(release.services[s] for s in services)]
    for key in sorted(overrides.parameters):
        if not any(stack.declares(key) for stack in stacks):
            problems.append(f"parameter {key} is declared by none of the tenant's templates")
    for service, parameters in sorted(overrides.service_parameters.items()):
        if service not in services:
            problems.append(f"parameters for {service}, which tier {tier!r} does not include")
            continue
        stack = release.services[service]
        problems += [
            f"parameter {key} is not declared by the template of {service}"
            for key in sorted(parameters)
            if stack.accepts is not None and key not in stack.accepts
        ]
    return problems
