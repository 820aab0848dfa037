"""Tenants: the id rules, the lifecycle state machine and the record every layer passes around.

Who calls it: the store (persisting), the engine (transitions), the API and CLI (validation and
display). Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from stockade.domain.errors import ConflictError, ValidationError

MAX_TENANT_ID = 40
_SLUG = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")


def validate_tenant_id(value: str) -> str:
    """Return ``value`` if it is a DNS-safe slug of at most 40 characters, else raise."""
    if not value or len(value) > MAX_TENANT_ID or not _SLUG.match(value) or "--" in value:
        raise ValidationError(
            f"tenant id {value!r} is not a DNS-safe slug of at most {MAX_TENANT_ID} characters",
            hint="use lowercase letters, digits and single hyphens, starting with a letter, "
            "e.g. acme-corp",
        )
    return value


_LABEL_KEY = re.compile(r"^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$")


def validate_labels(labels: dict[str, str]) -> dict[str, str]:
    """Labels are short lowercase keys with string values of at most 256 characters."""
    for key, value in labels.items():
        if not _LABEL_KEY.match(key):
            raise ValidationError(
                f"label key {key!r} is invalid",
                hint="use lowercase letters, digits, '.', '_', '/' or '-', at most 63 characters",
            )
        if len(value) > 256:
            raise ValidationError(f"label {key!r} is longer than 256 characters")
    return labels


class TenantState(StrEnum):
    REQUESTED = "requested"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    RETIRING = "retiring"
    CLOSED = "closed"
    FAILED = "failed"


_TRANSITIONS: dict[TenantState, frozenset[TenantState]] = {
    TenantState.REQUESTED: frozenset({TenantState.PROVISIONING, TenantState.FAILED}),
    TenantState.PROVISIONING: frozenset({TenantState.ACTIVE, TenantState.FAILED}),
    TenantState.ACTIVE: frozenset({TenantState.SUSPENDED, TenantState.RETIRING}),
    TenantState.SUSPENDED: frozenset({TenantState.ACTIVE, TenantState.RETIRING}),
    TenantState.RETIRING: frozenset({TenantState.CLOSED, TenantState.FAILED}),
    TenantState.CLOSED: frozenset(),
    # a failed tenant resumes where it stopped: back to provisioning (or retiring)
    TenantState.FAILED: frozenset({TenantState.PROVISIONING, TenantState.RETIRING}),
}

#: states in which an onboarding workflow should be running
ONBOARDING_STATES = frozenset({TenantState.REQUESTED, TenantState.PROVISIONING})


def can_transition(current: TenantState, target: TenantState) -> bool:
    return current == target or target in _TRANSITIONS[current]


def check_transition(tenant_id: str, current: TenantState, target: TenantState) -> None:
    if not can_transition(current, target):
        raise ConflictError(
            f"tenant {tenant_id!r} is {current.value} and cannot become {target.value}",
            hint=f"allowed from {current.value}: "
            + (", ".join(sorted(s.value for s in _TRANSITIONS[current])) or "nothing"),
        )


@dataclass(frozen=True)
class TenantRequest:
    """What a user asks for when creating a tenant (already validated by ``validate``)."""

    tenant_id: str
    tier: str
    name: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def validate(self, known_tiers: frozenset[str]) -> TenantRequest:
        validate_tenant_id(self.tenant_id)
        validate_labels(self.labels)
        if self.tier not in known_tiers:
            raise ValidationError(
                f"unknown tier {self.tier!r} for tenant {self.tenant_id!r}",
                hint="tiers in the spec: " + ", ".join(sorted(known_tiers)),
            )
        if len(self.name) > 200:
            raise ValidationError("tenant name is longer than 200 characters")
        return self


@dataclass(frozen=True)
class Tenant:
    """A tenant as recorded. ``account_id`` is set once CreateAccount succeeded."""

    tenant_id: str
    name: str
    tier: str
    state: TenantState
    labels: dict[str, str] = field(default_factory=dict)
    account_id: str | None = None
    account_email: str | None = None
    create_request_id: str | None = None
    failure_reason: str | None = None
    failed_step: str | None = None
    attempt: int = 1
    warnings: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def workflow_id(self) -> str:
        """The DBOS workflow id of the current onboarding attempt (stable, so enqueue dedups)."""
        return f"onboard-{self.tenant_id}-{self.attempt}"

    @property
    def baseline_workflow_id(self) -> str:
        """The id of the same attempt's second workflow, which builds the baseline."""
        return baseline_workflow_id(self.workflow_id)


def baseline_workflow_id(onboarding_workflow_id: str) -> str:
    return f"{onboarding_workflow_id}-baseline"
