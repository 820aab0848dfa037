"""Stockade's own least-privilege IAM policies, generated from what its adapters declare.

Every AWS adapter method declares the IAM actions its calls need (``cloud.aws.permissions``),
and ``cloud.aws.identities`` says which identity makes each call: ``Declared`` entries. This
module turns them into IAM policy documents, one per ``Identity``:

- ``management``: for the IAM user or role Stockade runs as in the management account:
  Organizations (``Resource: *``: most Organizations actions accept no narrower resource, and
  the organization's id is not known before it exists), ``sts:AssumeRole`` narrowed to the
  spec's role names in any account (``arn:aws:iam::*:role/NAME``): Stockade's own roles (the
  org access role, deploy, read, scan) in one statement, the people's roles ``stockade access``
  hands out (with ``sts:TagSession`` and ``sts:SetSourceIdentity``) in another; and
  ``iam:CreateServiceLinkedRole`` narrowed to Organizations' service-linked role
  (``CreateOrganization`` creates it).
- ``deploy``: the CloudFormation statement of the baseline's deploy role. The deploy role also
  needs the permissions of the resources the templates create (DynamoDB tables, queues, ...):
  that part is the vendor's and stays in the baseline template.
- ``read``, ``scan``: the whole inline policy of the baseline's read and scan roles.

Statements are grouped by service (one per service and resource set), actions and resources
sorted, statements sorted by Sid: the same declarations always give the same bytes.

Pure. Who calls it: ``server.iam`` (``stockade iam policy``), the tests that hold the baseline
template to these documents and that prove them in the sandbox.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from stockade.domain.spec import Organization

__all__ = [
    "NO_PERMISSION_NEEDED",
    "POLICY_VERSION",
    "Declared",
    "Identity",
    "RoleSet",
    "generate_policies",
    "role_arns",
    "role_names",
]

POLICY_VERSION: Final = "2012-10-17"
#: calls AWS answers without any permission (GetCallerIdentity works even under an explicit
#: deny): adapters declare none for them (``@requires()``)
NO_PERMISSION_NEEDED: Final = frozenset({"sts:GetCallerIdentity"})


class Identity(StrEnum):
    """Who makes a call: Stockade in the management account, or a role of the baseline."""

    MANAGEMENT = "management"
    DEPLOY = "deploy"
    READ = "read"
    SCAN = "scan"


class RoleSet(StrEnum):
    """The tenant roles an STS call of the management identity assumes."""

    #: Stockade's own: the org access role (until the baseline is up), deploy, read, scan
    STOCKADE = "stockade"
    #: the people's roles ``stockade access`` hands out (readonly, operator, breakglass)
    PEOPLE = "people"


@dataclass(frozen=True)
class Declared:
    """One adapter method (or function), the identity that calls it, and what it declared."""

    identity: Identity
    #: ``Class.method`` or ``module.function``, for messages
    where: str
    actions: frozenset[str]
    #: for a method that calls ``sts:*``: whose roles it assumes
    assumes: RoleSet | None = None


#: actions AWS lets us narrow below ``*``: (Sid, resource ARN pattern with {partition})
_NARROWED: Final[dict[str, tuple[str, str]]] = {
    "iam:CreateServiceLinkedRole": (
        "OrganizationsServiceLinkedRole",
        "arn:{partition}:iam::*:role/aws-service-role/organizations.amazonaws.com/*",
    ),
}
_SIDS: Final[dict[str, str]] = {
    "cloudformation": "CloudFormation",
    "iam": "IAM",
    "organizations": "Organizations",
}
_ASSUME_SIDS: Final[dict[RoleSet, str]] = {
    RoleSet.STOCKADE: "AssumeStockadeRoles",
    RoleSet.PEOPLE: "AssumePeoplesRoles",
}


def role_names(organization: Organization, roles: RoleSet) -> tuple[str, ...]:
    """The spec's names of the roles in ``roles``, sorted, without duplicates."""
    if roles is RoleSet.STOCKADE:
        names = {
            organization.access_role,
            organization.deploy_role,
            organization.read_role,
            organization.scan_role,
        }
    else:
        people = organization.access_roles
        names = {people.readonly, people.operator, people.breakglass}
    return tuple(sorted(names))


def role_arns(organization: Organization, roles: RoleSet, *, partition: str = "aws") -> list[str]:
    """``arn:aws:iam::*:role/NAME`` for every role in ``roles``: any tenant account."""
    return [f"arn:{partition}:iam::*:role/{name}" for name in role_names(organization, roles)]


def generate_policies(
    declared: Iterable[Declared], organization: Organization, *, partition: str = "aws"
) -> dict[Identity, dict[str, Any]]:
    """One IAM policy document per identity that declared any action (in ``Identity`` order).

    Raises ``ValueError`` for an ``sts:`` action declared without the roles it assumes: its
    resource would otherwise have to be every role in every account.
    """
    # (identity, Sid) -> (actions, resources)
    grouped: dict[Identity, dict[str, tuple[set[str], list[str]]]] = defaultdict(dict)
    for entry in declared:
        for action in entry.actions:
            sid, resources = _placement(entry, action, organization, partition)
            actions, _ = grouped[entry.identity].setdefault(sid, (set(), resources))
            actions.add(action)
    return {
        identity: _document(grouped[identity]) for identity in Identity if grouped.get(identity)
    }


def _placement(
    entry: Declared, action: str, organization: Organization, partition: str
) -> tuple[str, list[str]]:
    """The statement (Sid) an action goes to, and that statement's resources."""
    service = action.split(":", 1)[0]
    if service == "sts":
        if entry.assumes is None:
            raise ValueError(
                f"{entry.where} declares {action} but not whose roles it assumes "
                "(cloud.aws.identities: give its use an 'assumes')"
            )
        return _ASSUME_SIDS[entry.assumes], role_arns(
            organization, entry.assumes, partition=partition
        )
    if action in _NARROWED:
        sid, pattern = _NARROWED[action]
        return sid, [pattern.format(partition=partition)]
    return _SIDS.get(service, service.capitalize()), ["*"]


def _document(statements: dict[str, tuple[set[str], list[str]]]) -> dict[str, Any]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": resources[0] if len(resources) == 1 else sorted(resources),
            }
            for sid, (actions, resources) in sorted(statements.items())
        ],
    }
