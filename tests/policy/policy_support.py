"""Builders for the policy tests: statements, policies, principals, and one-call decisions.

Who uses it: every test module under ``tests/policy``.
"""

from __future__ import annotations

from typing import Any

from stockade.policy import (
    DecisionKind,
    PolicySet,
    evaluate,
    make_request,
    parse_policy,
    principal_from_arn,
)
from stockade.policy.model import Decision

V = "2012-10-17"
ACCOUNT = "111122223333"
OTHER = "444455556666"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session-1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OTHER_USER = f"arn:aws:iam::{OTHER}:user/bob"

ALLOW = DecisionKind.ALLOW
EXPLICIT = DecisionKind.EXPLICIT_DENY
IMPLICIT = DecisionKind.IMPLICIT_DENY


def stmt(effect: str, action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """A statement; ``extra`` adds elements (Condition=..., Principal=..., Sid=...)."""
    statement: dict[str, Any] = {"Effect": effect}
    if action is not None:
        statement["Action"] = action
    if resource is not None:
        statement["Resource"] = resource
    statement.update(extra)
    return statement


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Allow", action, resource, **extra)


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return stmt("Deny", action, resource, **extra)


def doc(*statements: dict[str, Any], version: str | None = V) -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return document


FULL_ACCESS = doc(allow("*", "*"))


def decide(
    principal: str = USER,
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::bucket/key",
    *,
    identity: list[dict[str, Any]] | None = None,
    resource_policy: dict[str, Any] | None = None,
    boundaries: list[dict[str, Any]] | None = None,
    session: list[dict[str, Any]] | None = None,
    scps: list[list[dict[str, Any]]] | None = None,
    rcps: list[list[dict[str, Any]]] | None = None,
    context: dict[str, Any] | None = None,
    resource_account: str | None = None,
    tags: dict[str, str] | None = None,
    management: bool = False,
) -> Decision:
    """The decision for one request, every policy given as a JSON-like document."""
    policies = PolicySet(
        identity=tuple(parse_policy(p) for p in identity or []),
        resource=parse_policy(resource_policy) if resource_policy else None,
        boundaries=tuple(parse_policy(p) for p in boundaries or []),
        session=tuple(parse_policy(p) for p in session or []),
        scps=tuple(tuple(parse_policy(p) for p in level) for level in scps or []),
        rcps=tuple(tuple(parse_policy(p) for p in level) for level in rcps or []),
    )
    request = make_request(
        principal_from_arn(principal, tags=tags),
        action,
        resource,
        resource_account=resource_account,
        context=context,
        principal_in_management_account=management,
    )
    return evaluate(request, policies)


def kind(**kwargs: Any) -> DecisionKind:
    """Only the decision's kind (same arguments as ``decide``)."""
    return decide(**kwargs).kind


def condition_holds(condition: dict[str, Any], context: dict[str, Any] | None = None) -> bool:
    """Whether an Allow statement with this Condition allows a request with this context."""
    decision = decide(identity=[doc(allow(Condition=condition))], context=context)
    return decision.kind is ALLOW
