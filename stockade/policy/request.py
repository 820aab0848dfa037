"""One authorization request: who (principal), what (action), on what (resource), and context.

``principal_from_arn`` recognises the principal kinds AWS evaluates differently: an IAM user, an
IAM role (or an assumed-role session of it), an IAM federated user session (GetFederationToken),
the account root user, an AWS service principal (``s3.amazonaws.com``) and anonymous (``*``).
Service-linked roles (path ``/aws-service-role/``, or a session of a role named
``AWSServiceRoleFor...``) are detected so SCPs and RCPs can skip them.

``make_request`` normalises the context (keys lowercased: AWS condition keys are case-insensitive;
booleans become ``"true"``/``"false"``; numbers their JSON text; lists become multivalued keys)
and fills the keys AWS always puts in a request context from the principal, unless the caller
gave them: ``aws:PrincipalArn`` (the role ARN for a role session), ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:username`` (IAM users only), ``aws:PrincipalIsAWSService``,
``aws:PrincipalServiceName`` (service principals), ``aws:PrincipalTag/<key>`` from the
principal's tags and ``aws:ResourceAccount``.

Who calls it: ``policy.simulate`` (builds requests from JSON), ``policy.evaluate`` (reads them),
the guardrail tests and ``bench/policy.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from stockade.policy.matching import split_arn
from stockade.policy.variables import ContextValue

_ACCOUNT_ID = re.compile(r"^\d{12}$")


class PrincipalKind(StrEnum):
    USER = "user"
    ROLE = "role"
    ROLE_SESSION = "role_session"
    FEDERATED_USER = "federated_user"
    ROOT = "root"
    SERVICE = "service"
    ANONYMOUS = "anonymous"


#: principals whose own account's identity-based policies, boundaries and SCPs apply
IAM_KINDS = frozenset(
    {
        PrincipalKind.USER,
        PrincipalKind.ROLE,
        PrincipalKind.ROLE_SESSION,
        PrincipalKind.FEDERATED_USER,
        PrincipalKind.ROOT,
    }
)

_PRINCIPAL_TYPE = {
    PrincipalKind.USER: "User",
    PrincipalKind.ROLE: "AssumedRole",
    PrincipalKind.ROLE_SESSION: "AssumedRole",
    PrincipalKind.FEDERATED_USER: "FederatedUser",
    PrincipalKind.ROOT: "Account",
    PrincipalKind.ANONYMOUS: "Anonymous",
}


@dataclass(frozen=True, slots=True)
class RequestPrincipal:
    """The principal making a request.

    ``arn`` is what a resource policy names to grant this principal *directly* (a user ARN, an
    assumed-role session ARN, a federated user ARN, the root ARN, a service name). ``entity_arn``
    is the IAM entity a session comes from (the role of a role session; the IAM user who called
    GetFederationToken, if known): a resource policy naming it grants access that permissions
    boundaries and session policies still limit.
    """

    kind: PrincipalKind
    arn: str
    account: str | None = None
    partition: str = "aws"
    entity_arn: str | None = None
    service_linked: bool = False
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def root_arn(self) -> str | None:
        return f"arn:{self.partition}:iam::{self.account}:root" if self.account else None

    @property
    def principal_arn(self) -> str:
        """The value of ``aws:PrincipalArn``: the role ARN for a role session."""
        if self.kind is PrincipalKind.ROLE_SESSION and self.entity_arn:
            return self.entity_arn
        return self.arn

    @property
    def is_iam(self) -> bool:
        return self.kind in IAM_KINDS


def principal_from_arn(
    value: str,
    *,
    entity_arn: str | None = None,
    service_linked: bool | None = None,
    tags: Mapping[str, str] | None = None,
) -> RequestPrincipal:
    """The principal named by an ARN, a 12-digit account id (its root user), a service principal
    name, or ``*``/``anonymous``; ValueError if ``value`` is none of these."""
    tag_pairs = tuple(sorted((tags or {}).items()))
    if value in ("*", "anonymous"):
        return RequestPrincipal(PrincipalKind.ANONYMOUS, "*", tags=tag_pairs)
    if _ACCOUNT_ID.match(value):
        value = f"arn:aws:iam::{value}:root"
    if not value.startswith("arn:"):
        if "." in value and " " not in value:
            return RequestPrincipal(PrincipalKind.SERVICE, value.lower(), tags=tag_pairs)
        raise ValueError(f"{value!r} is not a principal ARN, account id or service principal")
    parts = split_arn(value)
    if parts is None or not _ACCOUNT_ID.match(parts[4]) or parts[2] not in ("iam", "sts"):
        raise ValueError(f"{value!r} is not an IAM or STS principal ARN")
    partition, service, account, resource = parts[1], parts[2], parts[4], parts[5]
    kind_name, _, rest = resource.partition("/")
    linked = False
    entity = entity_arn
    if service == "iam" and resource == "root":
        kind = PrincipalKind.ROOT
    elif service == "iam" and kind_name == "user" and rest:
        kind = PrincipalKind.USER
    elif service == "iam" and kind_name == "role" and rest:
        kind = PrincipalKind.ROLE
        entity = entity or value
        linked = rest.startswith("aws-service-role/")
    elif service == "sts" and kind_name == "assumed-role" and "/" in rest:
        kind = PrincipalKind.ROLE_SESSION
        role_name = rest.split("/", 1)[0]
        entity = entity or f"arn:{partition}:iam::{account}:role/{role_name}"
        linked = role_name.startswith("AWSServiceRoleFor")
    elif service == "sts" and kind_name == "federated-user" and rest:
        kind = PrincipalKind.FEDERATED_USER
    else:
        raise ValueError(f"{value!r} is not a user, role, session, federated user or root ARN")
    return RequestPrincipal(
        kind=kind,
        arn=value,
        account=account,
        partition=partition,
        entity_arn=entity,
        service_linked=linked if service_linked is None else service_linked,
        tags=tag_pairs,
    )


def _scalar(value: object, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    raise ValueError(f"context key {key!r}: {value!r} is not a string, number or boolean")


def normalize_context(raw: Mapping[str, object]) -> dict[str, ContextValue]:
    """Context keys lowercased; values as strings, lists as tuples (multivalued keys); ``None``
    values dropped (a missing key). ValueError for objects or nested lists."""
    context: dict[str, ContextValue] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            context[key.lower()] = tuple(_scalar(item, key) for item in value)
        else:
            context[key.lower()] = _scalar(value, key)
    return context


def _derived_context(
    principal: RequestPrincipal, resource_account: str | None
) -> dict[str, ContextValue]:
    derived: dict[str, ContextValue] = {}
    if principal.kind is PrincipalKind.SERVICE:
        derived["aws:principalisawsservice"] = "true"
        derived["aws:principalservicename"] = principal.arn
    else:
        derived["aws:principalisawsservice"] = "false"
    if principal.is_iam:
        derived["aws:principalarn"] = principal.principal_arn
    if principal.account:
        derived["aws:principalaccount"] = principal.account
    if principal.kind in _PRINCIPAL_TYPE:
        derived["aws:principaltype"] = _PRINCIPAL_TYPE[principal.kind]
    if principal.kind is PrincipalKind.USER:
        derived["aws:username"] = principal.arn.rsplit("/", 1)[-1]
    for key, value in principal.tags:
        derived[f"aws:principaltag/{key.lower()}"] = value
    if resource_account:
        derived["aws:resourceaccount"] = resource_account
    return derived


@dataclass(frozen=True, slots=True)
class Request:
    """A request ready to evaluate (build it with ``make_request``)."""

    principal: RequestPrincipal
    action: str
    resource: str
    #: the account owning the resource (None: unknown, treated as the principal's account)
    resource_account: str | None
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    #: SCPs never apply to principals of the management account
    principal_in_management_account: bool = False
    #: RCPs never apply to resources of the management account
    resource_in_management_account: bool = False
    action_lower: str = ""

    @property
    def same_account(self) -> bool:
        return self.resource_account is None or self.resource_account == self.principal.account


def make_request(
    principal: RequestPrincipal,
    action: str,
    resource: str = "*",
    *,
    resource_account: str | None = None,
    context: Mapping[str, object] | None = None,
    principal_in_management_account: bool = False,
    resource_in_management_account: bool = False,
) -> Request:
    """A normalised request; the resource account defaults to the account in the resource ARN,
    else the principal's own account (S3 bucket ARNs carry no account)."""
    if resource_account is None:
        parts = split_arn(resource)
        if parts is not None and _ACCOUNT_ID.match(parts[4]):
            resource_account = parts[4]
        else:
            resource_account = principal.account
    given = normalize_context(context or {})
    merged = _derived_context(principal, resource_account)
    merged.update(given)
    return Request(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=resource_account,
        context=merged,
        principal_in_management_account=principal_in_management_account,
        resource_in_management_account=resource_in_management_account,
        action_lower=action.lower(),
    )
