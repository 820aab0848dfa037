"""The compiled policy model and the shape of a decision.

A ``Policy`` is parsed once (``policy.parse``) into frozen ``Statement``s whose Action, Resource,
Principal and Condition elements are already compiled matchers, so evaluating a request never
looks at raw JSON. ``Policy.candidates`` memoises, per lowercase action, which deny and allow
statements name that action: guardrail runs and simulate batches ask about the same few actions
again and again. The memo lives in the policy object (owned by whoever parsed it, usually a
``PolicyCache``), is bounded, and never changes an answer.

A ``Decision`` is allow / explicit deny / implicit deny plus ``Explanation``s: the statements that
decided it (policy type, SCP/RCP level, policy index and Id, statement index and Sid, effect), or
for an implicit deny, which required allow was missing.

Who calls it: ``policy.parse`` builds policies, ``policy.evaluate`` reads them and builds
decisions, ``policy.simulate`` and the CLI render decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from stockade.policy.conditions import Clause
from stockade.policy.matching import ActionMatcher, ResourceMatcher
from stockade.policy.principals import PrincipalMatcher
from stockade.policy.request import Request

#: how many distinct actions one policy remembers before starting again
_MEMO_LIMIT = 4096


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyType(StrEnum):
    IDENTITY = "identity"
    RESOURCE = "resource"
    SCP = "scp"
    RCP = "rcp"
    PERMISSIONS_BOUNDARY = "permissions_boundary"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    actions: ActionMatcher
    #: None: the statement has no Resource element (a trust policy): every resource
    resources: ResourceMatcher | None
    principal: PrincipalMatcher | None = None
    not_principal: PrincipalMatcher | None = None
    conditions: tuple[Clause, ...] = ()
    #: the Resource element needs checking (not absent, not a plain ``*``)
    _check_resource: bool = field(init=False, repr=False, compare=False)
    #: neither resource nor conditions can fail: the statement applies to its actions
    _always: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        resources = self.resources
        check = resources is not None and not (resources.match_all and not resources.negated)
        object.__setattr__(self, "_check_resource", check)
        object.__setattr__(self, "_always", not check and not self.conditions)

    def applies(self, request: Request) -> bool:
        """Resource and conditions (the action was matched by ``Policy.candidates``)."""
        if self._always:
            return True
        context = request.context
        if self._check_resource and not self.resources.matches(  # type: ignore[union-attr]
            request.resource, context
        ):
            return False
        for clause in self.conditions:  # noqa: SIM110 (a plain loop is faster here)
            if not clause.holds(context):
                return False
        return True


@dataclass(frozen=True, eq=False)
class Policy:
    statements: tuple[Statement, ...]
    version: str | None = None
    id: str | None = None
    #: characters of the source without whitespace outside strings (``policy.size``)
    source_chars: int = 0
    _memo: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def variables_enabled(self) -> bool:
        return self.version == "2012-10-17"

    def candidates(self, action: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """(deny statements, allow statements) whose Action/NotAction covers ``action``
        (lowercase)."""
        found = self._memo.get(action)
        if found is None:
            matching = [s for s in self.statements if s.actions.matches(action)]
            found = (
                tuple(s for s in matching if s.effect is Effect.DENY),
                tuple(s for s in matching if s.effect is Effect.ALLOW),
            )
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[action] = found
        return found


class DecisionKind(StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


@dataclass(frozen=True, slots=True)
class Explanation:
    """One reason for a decision: a statement that matched, or a missing allow
    (``effect`` None, ``statement_index`` None, ``reason`` says what was missing)."""

    policy_type: PolicyType
    effect: Effect | None
    reason: str
    policy_index: int | None = None
    policy_id: str | None = None
    statement_index: int | None = None
    sid: str | None = None
    #: SCP/RCP level: 0 is the root, then each OU, the last is the account
    level: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "policy_type": self.policy_type.value,
            "level": self.level,
            "policy_index": self.policy_index,
            "policy_id": self.policy_id,
            "statement_index": self.statement_index,
            "sid": self.sid,
            "effect": self.effect.value if self.effect else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    explanation: tuple[Explanation, ...]

    @property
    def allowed(self) -> bool:
        return self.kind is DecisionKind.ALLOW
