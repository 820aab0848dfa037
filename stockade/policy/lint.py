"""``policy lint``: grammar errors, statements that can never match, and risky patterns.

Errors (the policy is wrong; ``stockade policy lint`` exits 1):

* anything ``policy.parse`` rejects (invalid JSON, duplicate keys, unknown elements or operators,
  malformed actions, ARNs, principals or condition values) - one finding, analysis stops;
* statements that can never match: an empty Action/Resource list, ``NotAction``/``NotResource``
  ``*``, an action prefix that looks like a typo of a known service (``s33:GetObject``),
  Resource ARNs only of services the actions cannot act on, contradictory conditions
  (``policy.contradictions``);
* elements the policy type does not allow: Principal in identity policies, boundaries, session
  policies and SCPs; no Principal in resource policies and RCPs; RCPs with Allow (only
  ``RCPFullAWSAccess`` may), a Principal other than ``*``, NotAction or NotPrincipal; a missing
  Resource in non-resource policies; duplicate Sids; SCPs/RCPs over the size limit.

Warnings (works, but review it; exit 0 when there are only warnings): Allow of every action,
Allow with NotAction, ``iam:PassRole`` on ``*``, sensitive actions (``iam:PassRole``,
``sts:AssumeRole``, ``organizations:*``, ``kms:Decrypt`` on ``*``) allowed without a condition,
``Principal: "*"`` allowed without a condition, NotPrincipal, ``ForAllValues`` in an Allow (true
when the key is missing), unknown service prefixes, a missing or legacy Version, and SCPs/RCPs
that fit the size limit only once whitespace is removed.

Who calls it: ``stockade.cli.policy`` (``lint``).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stockade.domain.quotas import OrganizationLimits
from stockade.policy.conditions import Qualifier
from stockade.policy.contradictions import contradictions
from stockade.policy.errors import PolicyError
from stockade.policy.model import Effect, Policy, PolicyType, Statement
from stockade.policy.parse import load_json, parse_document
from stockade.policy.services import (
    CROSS_SERVICE,
    KNOWN_PREFIXES,
    SENSITIVE_ACTIONS,
    SENSITIVE_ON_ANY_RESOURCE,
)
from stockade.policy.size import DEFAULT_LIMITS, minified_length


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    message: str
    statement: int | None = None
    sid: str | None = None
    field: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "statement": self.statement,
            "sid": self.sid,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class LintReport:
    policy_type: PolicyType
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)


_NO_PRINCIPAL_TYPES = frozenset(
    {PolicyType.IDENTITY, PolicyType.PERMISSIONS_BOUNDARY, PolicyType.SESSION, PolicyType.SCP}
)
_GRANTING_TYPES = frozenset({PolicyType.IDENTITY, PolicyType.RESOURCE, PolicyType.SESSION})


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _detect_type(statements: Sequence[Mapping[str, Any]]) -> PolicyType:
    has_principal = any("Principal" in s or "NotPrincipal" in s for s in statements)
    return PolicyType.RESOURCE if has_principal else PolicyType.IDENTITY


class _Linter:
    def __init__(self, report: LintReport) -> None:
        self.report = report

    def add(
        self,
        severity: Severity,
        message: str,
        st: Statement | None = None,
        field_name: str | None = None,
    ) -> None:
        self.report.findings.append(
            Finding(
                severity,
                message,
                st.index if st else None,
                st.sid if st else None,
                field_name,
            )
        )

    def error(self, message: str, st: Statement | None = None, name: str | None = None) -> None:
        self.add(Severity.ERROR, message, st, name)

    def warn(self, message: str, st: Statement | None = None, name: str | None = None) -> None:
        self.add(Severity.WARNING, message, st, name)


def _check_elements(
    lint: _Linter, raw: Mapping[str, Any], st: Statement, ptype: PolicyType
) -> None:
    for name in ("Action", "Resource"):
        if name in raw and _items(raw[name]) == []:
            lint.error(f"empty {name} list: the statement never applies", st, name)
    for name in ("NotAction", "NotResource"):
        if name in raw and "*" in _items(raw[name]):
            lint.error(f'{name} "*" excludes everything: the statement never applies', st, name)
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if ptype in _NO_PRINCIPAL_TYPES and has_principal:
        name = "Principal" if "Principal" in raw else "NotPrincipal"
        lint.error(f"a {ptype.value} policy cannot have {name}", st, name)
    if ptype in (PolicyType.RESOURCE, PolicyType.RCP) and not has_principal:
        lint.error(f"a {ptype.value} policy statement needs a Principal", st, "Principal")
    if ptype is not PolicyType.RESOURCE and "Resource" not in raw and "NotResource" not in raw:
        lint.error("a statement needs Resource (or NotResource)", st, "Resource")
    if ptype is PolicyType.RCP:
        _check_rcp(lint, raw, st)


def _check_rcp(lint: _Linter, raw: Mapping[str, Any], st: Statement) -> None:
    full_access = raw.get("Principal") == "*" and _items(raw.get("Action")) == ["*"]
    if st.effect is Effect.ALLOW and not full_access:
        lint.error("RCPs can only deny (Allow is reserved to RCPFullAWSAccess)", st, "Effect")
    if "Principal" in raw and raw["Principal"] != "*":
        lint.error('an RCP Principal must be "*" (use conditions to narrow it)', st, "Principal")
    for name in ("NotAction", "NotPrincipal"):
        if name in raw:
            lint.error(f"RCPs do not support {name}", st, name)


def _check_services(lint: _Linter, raw: Mapping[str, Any], st: Statement) -> None:
    name = "NotAction" if "NotAction" in raw else "Action"
    action_services: set[str] = set()
    wildcard_service = False
    for action in _items(raw.get(name)):
        if not isinstance(action, str) or action == "*":
            wildcard_service = True
            continue
        prefix = action.split(":", 1)[0].lower()
        if "*" in prefix or "?" in prefix:
            wildcard_service = True
            continue
        action_services.add(prefix)
        if prefix not in KNOWN_PREFIXES:
            close = difflib.get_close_matches(prefix, sorted(KNOWN_PREFIXES), n=1, cutoff=0.75)
            if close:
                lint.error(
                    f"unknown service prefix {prefix!r} in {action!r} (did you mean "
                    f"{close[0]!r}?): it matches no action",
                    st,
                    name,
                )
            else:
                lint.warn(f"unknown service prefix {prefix!r} in {action!r}", st, name)
    if name == "Action" and action_services and not wildcard_service and "Resource" in raw:
        _check_resource_services(lint, raw, st, action_services)


def _check_resource_services(
    lint: _Linter, raw: Mapping[str, Any], st: Statement, action_services: set[str]
) -> None:
    resource_services: set[str] = set()
    for resource in _items(raw["Resource"]):
        parts = resource.split(":") if isinstance(resource, str) else []
        if len(parts) < 6 or not parts[2] or "*" in parts[2] or "?" in parts[2]:
            return
        resource_services.add(parts[2].lower())
    if not resource_services:
        return
    compatible = any(
        r == a or r in CROSS_SERVICE.get(a, frozenset())
        for a in action_services
        for r in resource_services
    )
    if not compatible:
        lint.error(
            f"Resource ARNs are for {', '.join(sorted(resource_services))} but the actions "
            f"are {', '.join(sorted(action_services))} actions: the statement never applies",
            st,
            "Resource",
        )


def _check_risky(lint: _Linter, raw: Mapping[str, Any], st: Statement, ptype: PolicyType) -> None:
    if st.effect is not Effect.ALLOW:
        if st.not_principal is not None:
            lint.warn(
                "Deny with NotPrincipal denies every principal that has a permissions "
                "boundary; prefer a condition on aws:PrincipalArn",
                st,
                "NotPrincipal",
            )
        return
    any_resource = st.resources is None or (st.resources.match_all and not st.resources.negated)
    if ptype is PolicyType.RESOURCE and st.not_principal is not None:
        lint.warn("Allow with NotPrincipal grants everyone else, even anonymous users", st)
    if st.principal is not None and st.principal.everyone and not st.conditions:
        lint.warn('Principal "*" is allowed without a condition: the resource is public', st)
    if any(clause.qualifier is Qualifier.FOR_ALL_VALUES for clause in st.conditions):
        lint.warn(
            "ForAllValues is true when the key is missing from the request; add a Null check",
            st,
            "Condition",
        )
    if ptype not in _GRANTING_TYPES:
        return
    if st.actions.negated:
        lint.warn("Allow with NotAction allows every other action, present and future", st)
        return
    if st.actions.match_all:
        where = " on every resource" if any_resource else ""
        lint.warn(f"allows every action{where}", st, "Action")
        return
    for action, pretty in SENSITIVE_ACTIONS.items():
        if not st.actions.matches(action):
            continue
        if action in SENSITIVE_ON_ANY_RESOURCE and not any_resource:
            continue
        problems = []
        if action == "iam:passrole" and any_resource:
            problems.append('on Resource "*" (any role can be passed)')
        if not st.conditions:
            problems.append("without a condition")
        if problems:
            lint.warn(f"allows sensitive action {pretty} {' and '.join(problems)}", st, "Action")
            if action.startswith("organizations:"):
                break


def _check_size(lint: _Linter, text: str, ptype: PolicyType, limits: OrganizationLimits) -> None:
    if ptype not in (PolicyType.SCP, PolicyType.RCP):
        return
    kind = ptype.value.upper()
    compact = minified_length(text)
    limit = limits.scp_max_chars
    if compact > limit:
        lint.error(f"the {kind} is {compact:,} characters without whitespace, over {limit:,}")
    elif len(text) > limit:
        lint.warn(
            f"the {kind} is {len(text):,} characters as written ({compact:,} without whitespace "
            f"outside strings): upload it minified to stay under {limit:,}"
        )


def lint_policy(
    text: str,
    *,
    policy_type: PolicyType | None = None,
    limits: OrganizationLimits = DEFAULT_LIMITS,
) -> LintReport:
    """Every finding for one policy document (``policy_type`` None: resource if any statement
    has a Principal, else identity)."""
    try:
        document = load_json(text)
        policy: Policy = parse_document(document)
    except PolicyError as exc:
        report = LintReport(policy_type or PolicyType.IDENTITY)
        where = exc.where
        report.findings.append(
            Finding(Severity.ERROR, exc.problem, where.statement, where.sid, where.field)
        )
        return report
    raws = [s for s in _items(document["Statement"]) if isinstance(s, dict)]
    ptype = policy_type or _detect_type(raws)
    report = LintReport(ptype)
    lint = _Linter(report)
    version = document.get("Version")
    if version is None:
        lint.warn(
            "no Version: policy variables like ${aws:username} are literal text", None, "Version"
        )
    elif version != "2012-10-17":
        lint.warn(f"legacy Version {version}: use 2012-10-17", None, "Version")
    _check_size(lint, text, ptype, limits)
    sids = Counter(st.sid for st in policy.statements if st.sid)
    for st, raw in zip(policy.statements, raws, strict=True):
        if st.sid and sids[st.sid] > 1:
            lint.error(f"Sid {st.sid!r} is used by more than one statement", st, "Sid")
        _check_elements(lint, raw, st, ptype)
        _check_services(lint, raw, st)
        for key, why in contradictions(st.conditions):
            lint.error(f"condition on {key!r} can never hold ({why})", st, "Condition")
        _check_risky(lint, raw, st, ptype)
    return report
