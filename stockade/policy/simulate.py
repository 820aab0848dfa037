"""The ``policy simulate`` batch: one JSON request per line in, one JSON decision per line out.

Input line (every key but ``request.principal`` and ``request.action`` optional)::

    {"id": "case-1",
     "request": {"principal": "arn:aws:iam::111122223333:user/alice",
                 "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key",
                 "resource_account": "111122223333", "context": {"aws:SourceIp": "10.0.0.1"}},
     "identity_policies": [...], "resource_policy": {...},
     "permission_boundaries": [...], "session_policy": {...},
     "scps": [[root policies], [OU policies]..., [account policies]], "rcps": [...]}

Being liberal in what it accepts: a policy may be a JSON object or a JSON string; a single
policy may stand where a list is expected; ``scps``/``rcps`` may be a list of levels or a flat
list (one level); absent or empty ``scps`` means the principal's account is not governed by SCPs
(e.g. the management account), the same for ``rcps``; unknown keys are ignored (``expected``,
``comment``...). Singular/plural spellings of the policy keys are accepted.

The principal is an ARN (user, role, ``assumed-role`` session, ``federated-user``, ``root``), a
12-digit account id (its root user), a service principal (``lambda.amazonaws.com``) or ``*``
(anonymous), or an object ``{"arn", "role_arn", "service_linked_role", "tags"}``. Flags:
``is_management_account`` (in the line or the request: SCPs do not apply) and
``resource_in_management_account`` (RCPs do not apply). A service-linked role is recognised from
its ARN.

Output line: ``{"id", "decision": "allow"|"explicit_deny"|"implicit_deny", "explanation": [...]}``,
or for a bad line ``{"id", "line", "error": {"code", "message", "hint"}}`` - the message names the
policy (``scps[1][0]``), the statement index and Sid, and the field. SCPs and RCPs over the size
limit, or more per level than allowed, are such errors too.

Who calls it: ``stockade.cli.policy`` (``simulate``); tests; ``bench/policy.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.domain.errors import ValidationError
from stockade.domain.quotas import OrganizationLimits
from stockade.policy.errors import PolicyError, SimulationInputError
from stockade.policy.evaluate import PolicySet, evaluate
from stockade.policy.model import Decision, Policy
from stockade.policy.parse import PolicyCache
from stockade.policy.request import Request, make_request, principal_from_arn
from stockade.policy.size import DEFAULT_LIMITS, check_attachments, check_size

_ALIASES: Mapping[str, tuple[str, ...]] = {
    "identity": ("identity_policies", "identity_policy"),
    "resource": ("resource_policy", "resource_policies"),
    "boundary": (
        "permission_boundaries",
        "permissions_boundaries",
        "permission_boundary",
        "permissions_boundary",
    ),
    "session": ("session_policy", "session_policies"),
    "scps": ("scps", "scp"),
    "rcps": ("rcps", "rcp"),
}


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """One output line and whether the input line was valid."""

    line: str
    ok: bool


def _first(document: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    for name in names:
        if name in document:
            return name, document[name]
    return names[0], None


def _is_policy(value: object) -> bool:
    return isinstance(value, str | dict)


def _policy_list(value: object, name: str) -> list[object]:
    if value is None:
        return []
    if _is_policy(value):
        return [value]
    if isinstance(value, list) and all(_is_policy(item) for item in value):
        return list(value)
    raise SimulationInputError(f"{name} must be a policy (JSON object or string) or a list of them")


def _compile(cache: PolicyCache, sources: list[object], label: str) -> tuple[Policy, ...]:
    policies: list[Policy] = []
    for index, given in enumerate(sources):
        source = given
        if isinstance(given, dict) and "Statement" not in given and "document" in given:
            source = given["document"]  # {"name": ..., "document": {...}}
        if not isinstance(source, str | dict):
            raise SimulationInputError(f"{label}[{index}] is not a policy")
        policies.append(cache.get(source, label=f"{label}[{index}]"))
    return tuple(policies)


def _levels(
    cache: PolicyCache, value: object, name: str, kind: str, limits: OrganizationLimits
) -> tuple[tuple[Policy, ...], ...]:
    if value is None or value == []:
        return ()
    if not isinstance(value, list):
        value = [value]
    nested = [isinstance(item, list) for item in value]
    if any(nested) and not all(nested):
        raise SimulationInputError(
            f"{name} mixes levels (lists) and policies: give [[root...], [OU...], [account...]]"
        )
    levels = value if all(nested) else [value]
    compiled: list[tuple[Policy, ...]] = []
    for level, sources in enumerate(levels):
        label = f"{name}[{level}]"
        policies = _compile(cache, _policy_list(sources, label), label)
        check_attachments(len(policies), kind=kind, label=label, limit=limits.scp_max_per_target)
        for index, policy in enumerate(policies):
            check_size(
                policy.source_chars,
                kind=kind,
                label=f"{label}[{index}]",
                limit=limits.scp_max_chars,
            )
        compiled.append(policies)
    return tuple(compiled)


def _principal_arg(value: object) -> Any:
    if isinstance(value, str):
        return principal_from_arn(value)
    if isinstance(value, dict) and isinstance(value.get("arn"), str):
        tags = value.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise SimulationInputError("request.principal.tags must map tag keys to strings")
        linked = value.get("service_linked_role", value.get("service_linked"))
        entity = value.get("role_arn") or value.get("entity_arn") or value.get("source_arn")
        return principal_from_arn(
            value["arn"],
            entity_arn=entity if isinstance(entity, str) else None,
            service_linked=linked if isinstance(linked, bool) else None,
            tags=tags,
        )
    raise SimulationInputError(
        'request.principal must be an ARN, account id, service principal, "*", or {"arn": ...}'
    )


def _flag(document: Mapping[str, Any], request: Mapping[str, Any], *names: str) -> bool:
    return any(bool(source.get(name)) for source in (document, request) for name in names)


def parse_request(document: Mapping[str, Any]) -> Request:
    """The ``request`` part of an input line as a ``Request``."""
    raw = document.get("request")
    if not isinstance(raw, dict):
        raise SimulationInputError('the line needs a "request" object')
    action = raw.get("action")
    if not isinstance(action, str) or not action:
        raise SimulationInputError("request.action must be a non-empty string")
    resource = raw.get("resource", "*")
    resource_account = raw.get("resource_account")
    context = raw.get("context") or {}
    if not isinstance(resource, str):
        raise SimulationInputError("request.resource must be a string")
    if resource_account is not None and not isinstance(resource_account, str):
        raise SimulationInputError("request.resource_account must be a string")
    if not isinstance(context, dict):
        raise SimulationInputError("request.context must be an object of condition keys")
    try:
        principal = _principal_arg(raw.get("principal"))
        return make_request(
            principal,
            action,
            resource,
            resource_account=resource_account,
            context=context,
            principal_in_management_account=_flag(
                document, raw, "is_management_account", "principal_in_management_account"
            ),
            resource_in_management_account=_flag(
                document, raw, "resource_in_management_account", "resource_is_management_account"
            ),
        )
    except ValueError as exc:
        raise SimulationInputError(f"request: {exc}") from None


def parse_policy_set(
    document: Mapping[str, Any], cache: PolicyCache, limits: OrganizationLimits = DEFAULT_LIMITS
) -> PolicySet:
    """Every policy of an input line, compiled (through ``cache``) and size-checked."""
    compiled: dict[str, Any] = {}
    for role in ("identity", "boundary", "session"):
        name, value = _first(document, _ALIASES[role])
        compiled[role] = _compile(cache, _policy_list(value, name), name)
    name, value = _first(document, _ALIASES["resource"])
    resources = _compile(cache, _policy_list(value, name), name)
    if len(resources) > 1:
        raise SimulationInputError(f"{name}: a resource has one resource-based policy")
    scp_name, scps = _first(document, _ALIASES["scps"])
    rcp_name, rcps = _first(document, _ALIASES["rcps"])
    policies = PolicySet(
        identity=compiled["identity"],
        resource=resources[0] if resources else None,
        boundaries=compiled["boundary"],
        session=compiled["session"],
        scps=_levels(cache, scps, scp_name, "SCP", limits),
        rcps=_levels(cache, rcps, rcp_name, "RCP", limits),
    )
    return cache.policy_set(policies)


def decision_json(case_id: object, decision: Decision) -> dict[str, object]:
    return {
        "id": case_id,
        "decision": decision.kind.value,
        "explanation": [item.to_json() for item in decision.explanation],
    }


def _error_json(case_id: object, number: int, error: ValidationError) -> str:
    return json.dumps(
        {
            "id": case_id,
            "line": number,
            "error": {"code": error.code, "message": error.message, "hint": error.hint},
        }
    )


def simulate_line(
    text: str, cache: PolicyCache, *, number: int = 1, limits: OrganizationLimits = DEFAULT_LIMITS
) -> SimulationResult:
    """Evaluate one input line; a bad line gives an error line, never an exception."""
    case_id: object = None
    try:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SimulationInputError(
                f"line {number} is not valid JSON: {exc.msg} at column {exc.colno}"
            ) from None
        if not isinstance(document, dict):
            raise SimulationInputError(f"line {number} is not a JSON object")
        case_id = document.get("id")
        request = parse_request(document)
        policies = parse_policy_set(document, cache, limits)
    except (PolicyError, SimulationInputError) as exc:
        return SimulationResult(_error_json(case_id, number, exc), ok=False)
    decision = evaluate(request, policies)
    return SimulationResult(json.dumps(decision_json(case_id, decision)), ok=True)


def simulate_lines(
    lines: Iterable[str],
    cache: PolicyCache | None = None,
    *,
    limits: OrganizationLimits = DEFAULT_LIMITS,
) -> Iterator[SimulationResult]:
    """One result per non-blank input line, in order."""
    owned = cache if cache is not None else PolicyCache()
    for number, text in enumerate(lines, start=1):
        if text.strip():
            yield simulate_line(text, owned, number=number, limits=limits)
