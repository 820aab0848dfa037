"""The fleet spec (``stockade.yaml``) as typed, validated models.

Pure: these models validate data that ``stockade.spec.loader`` has already read from disk and
parsed; the loader turns pydantic's errors into messages naming file, line and field.

Who calls it: ``spec.loader`` (building it), the engine (naming, OUs, baseline stacks), the API
(known tiers), the scaffold tests.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stockade.domain.guardrails import Guardrails, TargetKind
from stockade.domain.tenant import MAX_TENANT_ID
from stockade.domain.waves import parse_tolerance

#: AWS Organizations' limits on CreateAccount's Email and AccountName
MAX_ACCOUNT_EMAIL = 64
MAX_ACCOUNT_NAME = 50

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$")
_STACK = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
#: service names become part of stack names (``domain.release.service_stack_name``)
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganizationalUnit(_Model):
    name: str
    children: tuple[OrganizationalUnit, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("OU names are 1-128 letters, digits, spaces, '_', '.' or '-'")
        return value


class AccessRoles(_Model):
    """The roles the baseline creates for people, by the level ``stockade access`` grants."""

    readonly: str = "StockadeReadOnlyRole"
    operator: str = "StockadeOperatorRole"
    #: write access for emergencies: needs a second person's approval
    breakglass: str = "StockadeBreakGlassRole"


class Organization(_Model):
    ous: tuple[OrganizationalUnit, ...] = (
        OrganizationalUnit(name="Tenants"),
        OrganizationalUnit(name="Suspended"),
    )
    #: the OU path (names joined by '/') where active tenants live, and suspended ones
    tenant_ou: str = "Tenants"
    suspended_ou: str = "Suspended"
    #: the role Organizations creates in every new account, used only until the baseline is up
    access_role: str = "OrganizationAccountAccessRole"
    #: the role the baseline creates in every tenant account; rollouts deploy through it
    deploy_role: str = "StockadeDeployRole"
    #: the baseline's read-only role for Stockade's own reads (stacks it observes)
    read_role: str = "StockadeReadRole"
    #: the baseline's role for credential scans (IAM reads only)
    scan_role: str = "StockadeScanRole"
    #: the baseline's roles for people (``stockade access``)
    access_roles: AccessRoles = AccessRoles()

    def ou_paths(self) -> list[tuple[str, ...]]:
        """Every OU as a path of names from the root, parents before children."""
        paths: list[tuple[str, ...]] = []

        def walk(ous: tuple[OrganizationalUnit, ...], prefix: tuple[str, ...]) -> None:
            for ou in ous:
                paths.append((*prefix, ou.name))
                walk(ou.children, (*prefix, ou.name))

        walk(self.ous, ())
        return paths

    @model_validator(mode="after")
    def _check(self) -> Organization:
        paths = self.ou_paths()
        joined = {"/".join(p) for p in paths}
        if len(joined) != len(paths):
            raise ValueError("two OUs with the same name under one parent")
        if any(len(p) > 5 for p in paths):
            raise ValueError("OUs nest at most 5 levels deep in AWS Organizations")
        for field_name in ("tenant_ou", "suspended_ou"):
            if getattr(self, field_name) not in joined:
                raise ValueError(
                    f"{field_name} {getattr(self, field_name)!r} is not one of the OUs: "
                    + ", ".join(sorted(joined))
                )
        return self


class Naming(_Model):
    #: ``{tenant}`` is replaced by the tenant id
    account_email: str = "aws+{tenant}@example.com"
    account_name: str = "tenant-{tenant}"

    @field_validator("account_email", "account_name")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{tenant}" not in value:
            raise ValueError("must contain the placeholder {tenant}")
        return value

    @field_validator("account_email")
    @classmethod
    def _email_fits(cls, value: str) -> str:
        longest = value.replace("{tenant}", "x" * MAX_TENANT_ID)
        if len(longest) > MAX_ACCOUNT_EMAIL or longest.count("@") != 1:
            raise ValueError(
                f"must be one e-mail address of at most {MAX_ACCOUNT_EMAIL} characters for a "
                f"{MAX_TENANT_ID}-character tenant id (AWS's limit); this gives {len(longest)}"
            )
        return value

    @field_validator("account_name")
    @classmethod
    def _name_fits(cls, value: str) -> str:
        longest = value.replace("{tenant}", "x" * MAX_TENANT_ID)
        if len(longest) > MAX_ACCOUNT_NAME:
            raise ValueError(
                f"must be at most {MAX_ACCOUNT_NAME} characters for a {MAX_TENANT_ID}-character "
                f"tenant id (AWS's limit); this gives {len(longest)}"
            )
        return value

    def email(self, tenant_id: str) -> str:
        return self.account_email.replace("{tenant}", tenant_id)

    def name(self, tenant_id: str) -> str:
        return self.account_name.replace("{tenant}", tenant_id)


ParamValue = str | int | float | bool


class StackSpec(_Model):
    """One CloudFormation stack: a stack name and a template path relative to the spec file."""

    name: str
    template: str
    parameters: dict[str, ParamValue] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _stack_name(cls, value: str) -> str:
        if not _STACK.match(value):
            raise ValueError("stack names start with a letter and hold letters, digits and '-'")
        return value


class Baseline(_Model):
    version: str = "1"
    stacks: tuple[StackSpec, ...] = ()


class Service(_Model):
    version: str
    template: str
    parameters: dict[str, ParamValue] = Field(default_factory=dict)


class Tier(_Model):
    services: tuple[str, ...] = ()
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    features: tuple[str, ...] = ()
    observability: Literal["full", "standard", "minimal"] = "standard"


class Wave(_Model):
    """One rollout wave; ``domain.waves.plan_waves`` assigns the tenants."""

    name: str
    #: cumulative share of the whole fleet reached once this wave is done (10, then 50, then
    #: 100), or else a label selector for canaries; exactly one of the two
    percent: float | None = None
    selector: dict[str, str] = Field(default_factory=dict)
    max_concurrency: int = Field(default=50, ge=1)
    #: failures the wave tolerates before the rollout halts: a count, or a percent like "5%"
    failure_tolerance: int | str = 0

    @field_validator("failure_tolerance")
    @classmethod
    def _tolerance(cls, value: int | str) -> int | str:
        parse_tolerance(value)
        return value

    @model_validator(mode="after")
    def _percent_or_selector(self) -> Wave:
        if self.percent is not None and self.selector:
            raise ValueError(
                f"percent and selector cannot both be set: wave {self.name!r} takes either a "
                "share of the fleet or the tenants its selector matches"
            )
        if self.percent is None and not self.selector:
            raise ValueError(f"wave {self.name!r} needs a percent or a selector")
        if self.percent is not None and not 0 < self.percent <= 100:
            raise ValueError(f"percent must be more than 0 and at most 100, got {self.percent}")
        return self


class Rollout(_Model):
    waves: tuple[Wave, ...] = (Wave(name="all", percent=100),)
    max_in_flight: int = Field(default=200, ge=1)
    jitter_seconds: float = Field(default=5.0, ge=0)

    @model_validator(mode="after")
    def _waves_cover_the_fleet(self) -> Rollout:
        names = [wave.name for wave in self.waves]
        if len(set(names)) != len(names):
            raise ValueError("waves must have distinct names")
        percents = [wave.percent for wave in self.waves if wave.percent is not None]
        if any(later < earlier for earlier, later in pairwise(percents)):
            raise ValueError(
                "waves must not shrink: percentages are cumulative shares of the fleet, "
                f"got {', '.join(f'{p:g}' for p in percents)}"
            )
        if not self.waves or self.waves[-1].percent != 100:
            raise ValueError(
                "waves must end with a wave of percent: 100, so every tenant is in a wave"
            )
        return self


class Limits(_Model):
    scp_max_chars: int = 5_120
    scp_max_per_target: int = 5
    close_share: float = 0.20
    close_floor: int = 250
    close_ceiling: int = 1_000


class FleetSpec(_Model):
    version: Literal[1] = 1
    organization: Organization = Organization()
    regions: tuple[str, ...] = ("us-east-1",)
    naming: Naming = Naming()
    baseline: Baseline = Baseline()
    services: dict[str, Service] = Field(default_factory=dict)
    tiers: dict[str, Tier]
    rollout: Rollout = Rollout()
    guardrails: Guardrails = Guardrails()
    limits: Limits = Limits()

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, Service]) -> dict[str, Service]:
        for service_name in value:
            if not _SERVICE.match(service_name):
                raise ValueError(
                    f"service name {service_name!r} is not valid: use 1-100 letters, digits "
                    "and '-', starting with a letter or digit (it becomes part of the stack name)"
                )
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> FleetSpec:
        if not self.tiers:
            raise ValueError("the spec needs at least one tier")
        for tier_name, tier in self.tiers.items():
            for service in tier.services:
                if service not in self.services:
                    raise ValueError(
                        f"tier {tier_name!r} uses unknown service {service!r}; services: "
                        + (", ".join(sorted(self.services)) or "none")
                    )
        if not self.regions:
            raise ValueError("the spec needs at least one region")
        self._check_guardrails()
        return self

    def _check_guardrails(self) -> None:
        ous = {"/".join(path) for path in self.organization.ou_paths()}
        per_target: dict[str, int] = {}
        for scp in self.guardrails.scps:
            for target in scp.parsed_targets():
                if target.kind is TargetKind.OU and target.ref not in ous:
                    raise ValueError(
                        f"SCP {scp.name!r} targets unknown OU {target.ref!r}; OUs: "
                        + ", ".join(sorted(ous))
                    )
                per_target[str(target)] = per_target.get(str(target), 0) + 1
        # AWS's FullAWSAccess stays attached everywhere and counts against the limit
        room = self.limits.scp_max_per_target - 1
        for target_name, count in sorted(per_target.items()):
            if count > room:
                raise ValueError(
                    f"{count} SCPs target {target_name}, but at most {room} fit beside "
                    f"FullAWSAccess (limits.scp_max_per_target is "
                    f"{self.limits.scp_max_per_target})"
                )
        for test in self.guardrails.tests:
            if test.ou is not None and test.ou not in ous:
                raise ValueError(
                    f"guardrail test {test.name!r} names unknown OU {test.ou!r}; OUs: "
                    + ", ".join(sorted(ous))
                )

    @property
    def home_region(self) -> str:
        return self.regions[0]

    def tier_names(self) -> frozenset[str]:
        return frozenset(self.tiers)
