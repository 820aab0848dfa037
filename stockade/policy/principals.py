"""The Principal and NotPrincipal elements of resource-based policies, compiled for matching.

``Principal`` values are ``"*"`` or an object with ``AWS``, ``Service``, ``Federated`` or
``CanonicalUser`` keys. An ``AWS`` value is ``*``, an account id (``123456789012``, equivalent to
``arn:aws:iam::123456789012:root``), or the ARN of a user, role, assumed-role session or
federated user; AWS accepts no partial wildcards there (a ``PolicyError``).

``PrincipalMatcher.match`` says *how* a statement names the requester, because AWS treats the
cases differently (IAM User Guide, "Policy evaluation logic", resource-based policies):

* ``DIRECT``: the statement names exactly this principal (``*``, the user ARN, the assumed-role
  session ARN, the federated user ARN, the root user, the service) - within one account such an
  allow is not limited by implicit denies in identity policies, boundaries or session policies;
* ``ENTITY``: it names the IAM role a session comes from (or the user who federated) - still
  limited by an implicit deny in a permissions boundary or session policy;
* ``ACCOUNT``: it names the principal's account - a delegation: the account's own identity
  policies must allow as well.

``NotPrincipal`` exempts a requester only when every layer of its identity is listed: the account
*and* the user, or the account *and* the role *and* the session (AWS: "you must also specify the
account ARN of the not-denied principal"; it may check the account, then the role, then the
session).

Who calls it: ``policy.parse`` (``compile_principal``), ``policy.evaluate``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from stockade.policy.errors import Location, PolicyError
from stockade.policy.request import PrincipalKind, RequestPrincipal

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):root$")
_PRINCIPAL_ARN = re.compile(
    r"^arn:[a-z-]+:(iam::\d{12}:(user|role)/.+|sts::\d{12}:(assumed-role/.+/.+|federated-user/.+)"
    r"|iam::\d{12}:(oidc|saml)-provider/.+)$"
)
_UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,}$")
_KEYS = {
    "aws": "AWS",
    "service": "Service",
    "federated": "Federated",
    "canonicaluser": "CanonicalUser",
}


class MatchKind(StrEnum):
    DIRECT = "direct"
    ENTITY = "entity"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class PrincipalMatcher:
    everyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    canonical: frozenset[str] = frozenset()

    def match(self, principal: RequestPrincipal) -> MatchKind | None:
        """How (if at all) this element names ``principal``."""
        if self.everyone:
            return MatchKind.DIRECT
        kind = principal.kind
        if kind is PrincipalKind.SERVICE:
            return MatchKind.DIRECT if principal.arn in self.services else None
        if kind is PrincipalKind.ANONYMOUS:
            return None
        if kind is not PrincipalKind.ROLE and principal.arn in self.arns:
            return MatchKind.DIRECT
        if kind is PrincipalKind.ROOT and principal.account in self.accounts:
            return MatchKind.DIRECT
        if principal.entity_arn is not None and principal.entity_arn in self.arns:
            return MatchKind.ENTITY
        if principal.account is not None and principal.account in self.accounts:
            return MatchKind.ACCOUNT
        return None

    def exempts(self, principal: RequestPrincipal) -> bool:
        """For NotPrincipal: whether every layer of ``principal``'s identity is listed."""
        if self.everyone:
            return True
        kind = principal.kind
        if kind is PrincipalKind.SERVICE:
            return principal.arn in self.services
        if kind is PrincipalKind.ANONYMOUS or principal.account not in self.accounts:
            return False
        if kind is PrincipalKind.ROOT:
            return True
        if principal.entity_arn is not None and principal.entity_arn not in self.arns:
            return False
        return kind is PrincipalKind.ROLE or principal.arn in self.arns


def _strings(value: object, where: Location) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError("principal values must be non-empty strings", where=where)
    return [str(item) for item in items]


def _aws(values: list[str], where: Location) -> tuple[bool, set[str], set[str]]:
    everyone = False
    accounts: set[str] = set()
    arns: set[str] = set()
    for value in values:
        root = _ROOT_ARN.match(value)
        if value == "*":
            everyone = True
        elif _ACCOUNT_ID.match(value):
            accounts.add(value)
        elif root:
            accounts.add(root.group(1))
        elif "*" in value or "?" in value:
            raise PolicyError(
                f"{value!r}: a Principal cannot use wildcards in an ARN",
                where=where,
                hint='use "*" with a condition on aws:PrincipalArn instead',
            )
        elif _PRINCIPAL_ARN.match(value) or _UNIQUE_ID.match(value):
            arns.add(value)
        else:
            raise PolicyError(f"{value!r} is not an account id or principal ARN", where=where)
    return everyone, accounts, arns


def compile_principal(value: object, where: Location) -> PrincipalMatcher:
    """The matcher for a ``Principal``/``NotPrincipal`` value; PolicyError if malformed."""
    if value == "*":
        return PrincipalMatcher(everyone=True)
    if not isinstance(value, dict) or not value:
        raise PolicyError('must be "*" or an object like {"AWS": "123456789012"}', where=where)
    everyone = False
    accounts: set[str] = set()
    arns: set[str] = set()
    others: dict[str, set[str]] = {"Service": set(), "Federated": set(), "CanonicalUser": set()}
    for key, raw in value.items():
        name = _KEYS.get(str(key).lower())
        if name is None:
            raise PolicyError(
                f"unknown principal type {key!r} (AWS, Service, Federated, CanonicalUser)",
                where=where,
            )
        values = _strings(raw, where)
        if name == "AWS":
            all_, accts, found = _aws(values, where)
            everyone = everyone or all_
            accounts |= accts
            arns |= found
        else:
            everyone = everyone or "*" in values
            others[name] |= {v.lower() if name == "Service" else v for v in values}
    return PrincipalMatcher(
        everyone=everyone,
        accounts=frozenset(accounts),
        arns=frozenset(arns),
        services=frozenset(others["Service"]),
        federated=frozenset(others["Federated"]),
        canonical=frozenset(others["CanonicalUser"]),
    )
