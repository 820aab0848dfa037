"""AWS's authorization decision for one request, with the statements that decided it.

The algorithm follows the IAM User Guide ("Policy evaluation logic", "Cross-account policy
evaluation logic", "Permissions boundaries", AWS Organizations "SCP evaluation" and "RCP
evaluation"):

1. **Explicit deny**: a matching ``Deny`` statement in any applicable policy - identity policies,
   permissions boundary, session policy, every SCP and RCP at every level, the resource policy -
   decides ``explicit_deny``; the explanation lists every deny statement that matched.
2. **RCPs** (resource account) can only deny: ``RCPFullAWSAccess`` is attached to every root, OU
   and account and cannot be detached, and custom RCPs may only deny, so the "allow at every
   level" requirement always holds. RCPs never apply to resources of the management account or
   to service-linked roles.
3. **SCPs** (principal's account): at *every* level of the path (root, each OU, the account)
   some SCP statement must allow, else ``implicit_deny`` naming the level. A FullAWSAccess policy
   is just a policy here: a level without an allowing statement denies. SCPs never apply to the
   management account (``principal_in_management_account``), to service-linked roles, or to
   principals that are not IAM principals of the account (service principals, anonymous).
4. **Same account**: allowed when the identity path allows - an identity policy allows (the root
   user needs none), *and* the permissions boundary (if any) allows, *and* the session policy
   (if any) allows; a federated user session (GetFederationToken) without a session policy has
   no permissions - **or** the resource policy grants: a statement naming the principal directly
   (the user, the role *session*, the federated user, the root user, ``*``, the service) is not
   limited by implicit denies elsewhere; one naming the *role* of a session (or the user who
   federated) is still limited by the boundary and session policy; one naming the *account*
   delegates to the account's identity policies and grants nothing alone.
5. **Cross account**: both the identity path in the principal's account and an allow in the
   resource policy (naming the principal, its role, its account or ``*``) are needed.
6. Service principals and anonymous callers have no identity policies: only a resource policy
   statement naming them (or ``*``) allows.

Documented NotPrincipal nuance kept: a resource-policy ``Deny`` with ``NotPrincipal`` always
applies to a principal that has a permissions boundary, whatever the NotPrincipal lists.

Not modelled: KMS key policies and role trust policies, which must allow even within an account
(pass ``identity_policies: []`` to simulate that), RAM shares, VPC endpoint policies, and ACLs.

Who calls it: ``policy.simulate``, guardrail tests, ``bench/policy.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.policy.model import Decision, DecisionKind, Effect, Explanation, PolicyType
from stockade.policy.plan import Entry, GrantEntry, PolicySet
from stockade.policy.principals import MatchKind
from stockade.policy.request import PrincipalKind, Request

_IDENTITY = PolicyType.IDENTITY
_BOUNDARY = PolicyType.PERMISSIONS_BOUNDARY
_SESSION = PolicyType.SESSION
_RESOURCE = PolicyType.RESOURCE
_ROOT_ALLOW = Explanation(
    _IDENTITY, Effect.ALLOW, "the account root user has full access to its account"
)

__all__ = ["PolicySet", "evaluate"]


def _matching(entries: tuple[Entry, ...], request: Request, out: list[Explanation]) -> bool:
    """Append the explanation of every entry whose statement applies; whether any did."""
    found = False
    for st, explanation in entries:
        if st.applies(request):
            out.append(explanation)
            found = True
    return found


def _resource_denies(
    entries: tuple[Entry, ...], request: Request, has_boundary: bool, out: list[Explanation]
) -> None:
    principal = request.principal
    for st, explanation in entries:
        if st.principal is not None:
            named = st.principal.match(principal) is not None
        elif st.not_principal is not None:
            named = (has_boundary and principal.is_iam) or not st.not_principal.exempts(principal)
        else:
            named = False
        if named and st.applies(request):
            out.append(explanation)


def _resource_allows(
    entries: tuple[GrantEntry, ...], request: Request
) -> dict[MatchKind, list[Explanation]]:
    principal = request.principal
    grants: dict[MatchKind, list[Explanation]] = {}
    for st, explanations in entries:
        kind: MatchKind | None = None
        if st.principal is not None:
            kind = st.principal.match(principal)
        elif st.not_principal is not None and not st.not_principal.exempts(principal):
            kind = MatchKind.DIRECT
        if kind is not None and st.applies(request):
            grants.setdefault(kind, []).append(explanations[kind])
    return grants


def _missing(ptype: PolicyType, reason: str, level: int | None = None) -> Explanation:
    return Explanation(policy_type=ptype, effect=None, reason=reason, level=level)


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """The decision AWS would make for ``request`` under ``policies``."""
    principal = request.principal
    iam = principal.is_iam
    plan = policies.plan(request.action_lower)
    scp_applies = (
        bool(policies.scps)
        and iam
        and not principal.service_linked
        and not request.principal_in_management_account
    )
    denies: list[Explanation] = []
    if iam and plan.identity_denies:
        _matching(plan.identity_denies, request, denies)
    if scp_applies and plan.scp_denies:
        _matching(plan.scp_denies, request, denies)
    if (
        plan.rcp_denies
        and not principal.service_linked
        and not request.resource_in_management_account
    ):
        _matching(plan.rcp_denies, request, denies)
    if plan.resource_denies:
        _resource_denies(plan.resource_denies, request, bool(policies.boundaries), denies)
    if denies:
        return Decision(DecisionKind.EXPLICIT_DENY, tuple(denies))

    allows: list[Explanation] = []
    missing: list[Explanation] = []
    if scp_applies:
        for level, entries in enumerate(plan.scp_allows):
            if not _matching(entries, request, allows):
                text = f"no SCP at level {level} allows the action"
                missing.append(_missing(PolicyType.SCP, text, level))
    grants = _resource_allows(plan.resource_allows, request) if plan.resource_allows else {}
    if iam:
        granted = _iam_principal(request, policies, grants, allows, missing)
    else:
        direct = grants.get(MatchKind.DIRECT, [])
        allows.extend(direct)
        granted = bool(direct)
        if not granted:
            text = "no resource-based policy statement allows this principal"
            missing.append(_missing(_RESOURCE, text))
    if granted and not missing:
        return Decision(DecisionKind.ALLOW, tuple(allows))
    return Decision(DecisionKind.IMPLICIT_DENY, tuple(missing))


@dataclass(slots=True)
class _IdentityPath:
    """What the principal's own account allows: identity policies, boundary, session policy."""

    allows: list[Explanation]
    gaps: list[Explanation]
    identity_ok: bool
    #: the permissions boundary and session policy (if any) allow
    limits_ok: bool

    @property
    def ok(self) -> bool:
        return self.identity_ok and self.limits_ok


def _identity_path(request: Request, policies: PolicySet) -> _IdentityPath:
    principal = request.principal
    plan = policies.plan(request.action_lower)
    allows: list[Explanation] = []
    identity_ok = _matching(plan.identity_allows, request, allows)
    if principal.kind is PrincipalKind.ROOT and not identity_ok:
        identity_ok = True
        allows.append(_ROOT_ALLOW)
    boundary_ok = not policies.boundaries or _matching(plan.boundary_allows, request, allows)
    if policies.session:
        session_ok = _matching(plan.session_allows, request, allows)
    else:
        session_ok = principal.kind is not PrincipalKind.FEDERATED_USER
    gaps: list[Explanation] = []
    if not identity_ok:
        gaps.append(_missing(_IDENTITY, "no identity-based policy allows the request"))
    if not boundary_ok:
        gaps.append(_missing(_BOUNDARY, "the permissions boundary does not allow the request"))
    if not session_ok:
        text = (
            "the session policy does not allow the request"
            if policies.session
            else "a federated user session without a session policy has no permissions"
        )
        gaps.append(_missing(_SESSION, text))
    return _IdentityPath(allows, gaps, identity_ok, boundary_ok and session_ok)


def _iam_principal(
    request: Request,
    policies: PolicySet,
    grants: dict[MatchKind, list[Explanation]],
    allows: list[Explanation],
    missing: list[Explanation],
) -> bool:
    """Whether an IAM principal is granted (SCPs aside); fills ``allows`` or ``missing``."""
    path = _identity_path(request, policies)
    direct = grants.get(MatchKind.DIRECT, [])
    entity = grants.get(MatchKind.ENTITY, [])
    account = grants.get(MatchKind.ACCOUNT, [])
    if request.same_account:
        via_entity = bool(entity) and path.limits_ok
        granted = path.ok or bool(direct) or via_entity
        if path.ok:
            allows.extend(path.allows)
        allows.extend(direct)
        if via_entity:
            allows.extend(entity)
        if not granted:
            missing.extend(path.gaps)
            if account:
                text = (
                    "the resource-based policy allows only the principal's account, which "
                    "delegates to its identity-based policies"
                )
                missing.append(_missing(_RESOURCE, text))
        return granted
    resource_ok = bool(direct or entity or account)
    if path.ok and resource_ok:
        allows.extend(path.allows)
        allows.extend(direct + entity + account)
        return True
    missing.extend(path.gaps)
    if not resource_ok:
        text = (
            "cross-account access needs an allow in the resource-based policy of account "
            f"{request.resource_account}"
        )
        missing.append(_missing(_RESOURCE, text))
    return False
