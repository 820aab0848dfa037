"""The policies of one request, and per action the statements that can possibly apply.

``PolicySet`` groups every policy a request is evaluated against. Its ``plan(action)`` flattens
them, once per action, into an ``ActionPlan``: the deny and allow statements of each policy type
whose Action/NotAction covers the action, each paired with its ready-made ``Explanation``. The
evaluator then only checks resources, principals and conditions of those statements - no loop
over policies, no explanation built on the hot path. Plans are memoised in the set (bounded);
``PolicyCache.policy_set`` interns sets so every request of a batch that has the same policies
shares one set and its plans.

Who calls it: ``policy.evaluate``, ``policy.simulate``, ``policy.parse`` (interning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from stockade.policy.model import Explanation, Policy, PolicyType, Statement
from stockade.policy.principals import MatchKind

#: a statement that may apply, and what to say when it does
Entry = tuple[Statement, Explanation]
#: a resource-policy allow, and what to say for each way it can name the principal
GrantEntry = tuple[Statement, Mapping[MatchKind, Explanation]]
_PLAN_LIMIT = 4096
_GRANT_REASON: Mapping[MatchKind, str] = {
    MatchKind.DIRECT: "allows, naming the principal directly",
    MatchKind.ENTITY: "allows, naming the principal's role or IAM user",
    MatchKind.ACCOUNT: "allows, naming the principal's account (needs an identity-policy allow)",
}


def _explanation(
    ptype: PolicyType, index: int, policy: Policy, st: Statement, level: int | None
) -> Explanation:
    return Explanation(
        policy_type=ptype,
        effect=st.effect,
        reason="denies" if st.effect.value == "Deny" else "allows",
        policy_index=index,
        policy_id=policy.id,
        statement_index=st.index,
        sid=st.sid,
        level=level,
    )


def _entries(
    policies: tuple[Policy, ...],
    ptype: PolicyType,
    action: str,
    *,
    deny: bool,
    level: int | None = None,
) -> tuple[Entry, ...]:
    found: list[Entry] = []
    for index, policy in enumerate(policies):
        denies, allows = policy.candidates(action)
        for st in denies if deny else allows:
            found.append((st, _explanation(ptype, index, policy, st, level)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class ActionPlan:
    """For one action: the statements of each policy type that name it."""

    #: identity policies, permissions boundaries and session policies
    identity_denies: tuple[Entry, ...]
    scp_denies: tuple[Entry, ...]
    rcp_denies: tuple[Entry, ...]
    resource_denies: tuple[Entry, ...]
    identity_allows: tuple[Entry, ...]
    boundary_allows: tuple[Entry, ...]
    session_allows: tuple[Entry, ...]
    #: per SCP level (root first), the allow statements
    scp_allows: tuple[tuple[Entry, ...], ...]
    resource_allows: tuple[GrantEntry, ...]


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy that applies to one request. Empty ``scps``: the principal's account is
    not governed by SCPs; empty ``rcps``: the resource's account by RCPs."""

    identity: tuple[Policy, ...] = ()
    resource: Policy | None = None
    boundaries: tuple[Policy, ...] = ()
    session: tuple[Policy, ...] = ()
    #: SCPs by level: root first, then each OU, then the account itself
    scps: tuple[tuple[Policy, ...], ...] = ()
    rcps: tuple[tuple[Policy, ...], ...] = ()
    _plans: dict[str, ActionPlan] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def plan(self, action: str) -> ActionPlan:
        """The plan for ``action`` (lowercase)."""
        plan = self._plans.get(action)
        if plan is None:
            plan = self._build(action)
            if len(self._plans) >= _PLAN_LIMIT:
                self._plans.clear()
            self._plans[action] = plan
        return plan

    def _build(self, action: str) -> ActionPlan:
        resource = (self.resource,) if self.resource is not None else ()
        identity_denies = (
            _entries(self.identity, PolicyType.IDENTITY, action, deny=True)
            + _entries(self.boundaries, PolicyType.PERMISSIONS_BOUNDARY, action, deny=True)
            + _entries(self.session, PolicyType.SESSION, action, deny=True)
        )
        scp_denies: tuple[Entry, ...] = ()
        for level, policies in enumerate(self.scps):
            scp_denies += _entries(policies, PolicyType.SCP, action, deny=True, level=level)
        rcp_denies: tuple[Entry, ...] = ()
        for level, policies in enumerate(self.rcps):
            rcp_denies += _entries(policies, PolicyType.RCP, action, deny=True, level=level)
        return ActionPlan(
            identity_denies=identity_denies,
            scp_denies=scp_denies,
            rcp_denies=rcp_denies,
            resource_denies=_entries(resource, PolicyType.RESOURCE, action, deny=True),
            identity_allows=_entries(self.identity, PolicyType.IDENTITY, action, deny=False),
            boundary_allows=_entries(
                self.boundaries, PolicyType.PERMISSIONS_BOUNDARY, action, deny=False
            ),
            session_allows=_entries(self.session, PolicyType.SESSION, action, deny=False),
            scp_allows=tuple(
                _entries(policies, PolicyType.SCP, action, deny=False, level=level)
                for level, policies in enumerate(self.scps)
            ),
            resource_allows=tuple(
                (st, {kind: replace(expl, reason=text) for kind, text in _GRANT_REASON.items()})
                for st, expl in _entries(resource, PolicyType.RESOURCE, action, deny=False)
            ),
        )
