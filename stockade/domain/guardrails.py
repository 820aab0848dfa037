"""Guardrails as code: the spec's SCPs and guardrail tests, and the SCP reconcile plan.

The spec's ``guardrails`` section lists SCP files with their targets (``root``, ``ou:PATH`` with
the OU path as the spec names it, ``account:ID``) and guardrail tests (a request and the decision
it must get). ``plan_scps`` compares what the spec wants with what the organization holds
(``ObservedScp``, read by the Organizations adapter) and says, in a safe order, what to create,
update, attach, detach and delete. Stockade only ever touches the SCPs it manages: those named in
the spec or tagged as managed by it; AWS's ``FullAWSAccess`` and anyone else's SCPs are left
alone (but they count against the per-target limit).

Pure. Who calls it: ``domain.spec`` (the models), ``spec.loader`` (checking SCP files),
``policy.guardrails`` (running the tests), the engine (planning and applying the reconcile).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "GuardrailTest",
    "Guardrails",
    "ObservedScp",
    "ScpAction",
    "ScpActionKind",
    "ScpSpec",
    "ScpTarget",
    "TargetKind",
    "plan_scps",
]

#: AWS Organizations policy names: 1-128 characters of the printable ASCII set
_POLICY_NAME = re.compile(r"^[\x20-\x7E]{1,128}$")
_ACCOUNT = re.compile(r"^\d{12}$")
#: the principal a guardrail test or a policy explain asks about by default (``{account}``: the
#: tenant's account)
TENANT_ADMIN = "arn:aws:iam::{account}:role/TenantAdmin"
#: the tag key on SCPs Stockade creates: what marks them as its own
MANAGED_TAG = "stockade:managed"


class TargetKind(StrEnum):
    ROOT = "root"
    OU = "ou"
    ACCOUNT = "account"


@dataclass(frozen=True)
class ScpTarget:
    """Where an SCP is attached: the root, an OU by its path of names, or an account."""

    kind: TargetKind
    #: "" for the root, the OU path joined by '/', or the 12-digit account id
    ref: str = ""

    @classmethod
    def parse(cls, text: str) -> ScpTarget:
        """``root``, ``ou:Tenants/Eu`` or ``account:123456789012``; ValueError otherwise."""
        if text == "root":
            return cls(TargetKind.ROOT)
        kind, sep, ref = text.partition(":")
        if sep and kind == "ou" and ref.strip("/"):
            return cls(TargetKind.OU, ref.strip("/"))
        if sep and kind == "account" and _ACCOUNT.match(ref):
            return cls(TargetKind.ACCOUNT, ref)
        raise ValueError(
            f"target {text!r} is not 'root', 'ou:PATH' (an OU of the spec, e.g. 'ou:Tenants') "
            "or 'account:ID' (12 digits)"
        )

    def __str__(self) -> str:
        return "root" if self.kind is TargetKind.ROOT else f"{self.kind.value}:{self.ref}"

    def order(self) -> tuple[int, str]:
        """Sort key: the root, then OUs (parents before children), then accounts."""
        return (_KIND_ORDER.index(self.kind), self.ref)


_KIND_ORDER = (TargetKind.ROOT, TargetKind.OU, TargetKind.ACCOUNT)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScpSpec(_Model):
    """One SCP of the spec: a policy file (JSON) and where to attach it."""

    name: str
    file: str
    description: str = ""
    targets: tuple[str, ...] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _POLICY_NAME.match(value):
            raise ValueError("SCP names are 1-128 printable ASCII characters")
        return value

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        parsed = [ScpTarget.parse(t) for t in value]
        if len(set(parsed)) != len(parsed):
            raise ValueError("a target is listed twice")
        return value

    def parsed_targets(self) -> frozenset[ScpTarget]:
        return frozenset(ScpTarget.parse(t) for t in self.targets)


class GuardrailTest(_Model):
    """A request and the decision the guardrails must give it, in a tenant account.

    ``principal`` may use ``{account}`` for the tenant account's id. Without
    ``identity_policies`` the principal is an administrator (``Allow *`` on ``*``), so the test
    asks what the SCPs alone let through. ``ou`` is the OU path of the tenant (default: the
    spec's ``tenant_ou``).
    """

    name: str
    action: str
    resource: str = "*"
    principal: str = TENANT_ADMIN
    context: dict[str, str | int | float | bool | list[str]] = Field(default_factory=dict)
    identity_policies: tuple[str, ...] = ()
    ou: str | None = None
    expect: Literal["allow", "deny", "explicit_deny", "implicit_deny"]


class Guardrails(_Model):
    scps: tuple[ScpSpec, ...] = ()
    tests: tuple[GuardrailTest, ...] = ()

    @field_validator("scps")
    @classmethod
    def _distinct(cls, value: tuple[ScpSpec, ...]) -> tuple[ScpSpec, ...]:
        names = [s.name for s in value]
        if len(set(names)) != len(names):
            raise ValueError("two SCPs with the same name")
        return value

    @field_validator("tests")
    @classmethod
    def _distinct_tests(cls, value: tuple[GuardrailTest, ...]) -> tuple[GuardrailTest, ...]:
        names = [t.name for t in value]
        if len(set(names)) != len(names):
            raise ValueError("two guardrail tests with the same name")
        return value


# -- reconcile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesiredScp:
    name: str
    description: str
    #: the policy document, minified JSON (what is sent to and compared with AWS)
    content: str
    targets: frozenset[ScpTarget]


@dataclass(frozen=True)
class ObservedScp:
    """An SCP as the organization holds it."""

    policy_id: str
    name: str
    description: str
    content: str
    aws_managed: bool
    #: tagged ``stockade:managed`` (created by Stockade)
    managed: bool
    targets: frozenset[ScpTarget]


class ScpActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ATTACH = "attach"
    DETACH = "detach"
    DELETE = "delete"


@dataclass(frozen=True)
class ScpAction:
    kind: ScpActionKind
    policy: str
    reason: str
    target: ScpTarget | None = None
    #: the existing policy's id (None when it is created by an earlier action)
    policy_id: str | None = None

    def describe(self) -> str:
        where = f" {'to' if self.kind is ScpActionKind.ATTACH else 'from'} {self.target}"
        return f"{self.kind.value} {self.policy}" + (where if self.target else "")


def _canonical(content: str) -> str:
    """Policy text compared without insignificant whitespace (AWS returns it re-encoded)."""
    try:
        return json.dumps(json.loads(content), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return content


def plan_scps(
    desired: tuple[DesiredScp, ...], observed: tuple[ObservedScp, ...]
) -> list[ScpAction]:
    """What to do so the organization's Stockade SCPs are exactly ``desired``.

    Order: create and update first, then detach (before attach, so a target at its limit has
    room), then attach, then delete policies the spec dropped (after detaching them everywhere).
    Policies neither in the spec nor tagged as Stockade's are never touched.
    """
    by_name = {o.name: o for o in observed if not o.aws_managed}
    wanted = {d.name for d in desired}
    creates: list[ScpAction] = []
    detaches: list[ScpAction] = []
    attaches: list[ScpAction] = []
    deletes: list[ScpAction] = []
    for want in desired:
        have = by_name.get(want.name)
        if have is None:
            creates.append(ScpAction(ScpActionKind.CREATE, want.name, "in the spec, not in AWS"))
            current: frozenset[ScpTarget] = frozenset()
            policy_id = None
        else:
            policy_id = have.policy_id
            current = have.targets
            changed = [
                what
                for what, differs in (
                    ("content", _canonical(have.content) != _canonical(want.content)),
                    ("description", have.description != want.description),
                )
                if differs
            ]
            if changed:
                creates.append(
                    ScpAction(
                        ScpActionKind.UPDATE,
                        want.name,
                        f"{' and '.join(changed)} changed",
                        policy_id=policy_id,
                    )
                )
        for target in sorted(current - want.targets, key=ScpTarget.order):
            detaches.append(
                ScpAction(
                    ScpActionKind.DETACH, want.name, "target not in the spec", target, policy_id
                )
            )
        for target in sorted(want.targets - current, key=ScpTarget.order):
            attaches.append(
                ScpAction(ScpActionKind.ATTACH, want.name, "target in the spec", target, policy_id)
            )
    for have in sorted(by_name.values(), key=lambda o: o.name):
        if have.name in wanted or not have.managed:
            continue
        for target in sorted(have.targets, key=ScpTarget.order):
            detaches.append(
                ScpAction(
                    ScpActionKind.DETACH,
                    have.name,
                    "policy removed from the spec",
                    target,
                    have.policy_id,
                )
            )
        deletes.append(
            ScpAction(
                ScpActionKind.DELETE,
                have.name,
                "removed from the spec",
                policy_id=have.policy_id,
            )
        )
    return creates + detaches + attaches + deletes
