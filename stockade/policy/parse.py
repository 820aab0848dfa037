"""JSON policy documents -> compiled ``Policy`` objects, with errors that say where.

The grammar is AWS's: ``Version`` (``2012-10-17``, or the legacy ``2008-10-17`` in which policy
variables are literal text), optional ``Id``, and ``Statement`` (one object or a non-empty list).
Each statement has an optional string ``Sid``; ``Effect`` ``Allow`` or ``Deny``; exactly one of
``Action``/``NotAction``; at most one of ``Resource``/``NotResource`` (none only makes sense in
role trust policies: every resource); at most one of ``Principal``/``NotPrincipal``; and an
optional ``Condition``. Unknown elements, a duplicated key in a JSON object (the second silently
wins in most parsers, a classic way to lose a condition), a malformed action (not
``service:action``), a malformed ARN, a bad principal, an unknown condition operator or a bad
condition value are all ``PolicyError`` naming the statement index, its Sid and the field.

``PolicyCache`` keeps compiled policies keyed by their JSON text so a batch compiles each distinct
policy once; its owner (a simulate run, a guardrail run) decides how long it lives.

Who calls it: ``policy.simulate``, ``policy.lint``, guardrail tests and ``bench/policy.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from stockade.policy.conditions import Clause, compile_conditions
from stockade.policy.errors import Location, PolicyError
from stockade.policy.matching import ActionMatcher, ResourceMatcher
from stockade.policy.model import Effect, Policy, Statement
from stockade.policy.plan import PolicySet
from stockade.policy.principals import compile_principal
from stockade.policy.size import minified_length
from stockade.policy.variables import Template, TemplateError, parse_template

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL = {"Version", "Id", "Statement"}
_ELEMENTS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
_ACTION = re.compile(r"^[A-Za-z0-9*?_.-]+:[A-Za-z0-9*?_.-]*$")
_ARN_PREFIX_COMPONENTS = 5


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PolicyError(
                f"key {key!r} appears twice in one JSON object (the first would be ignored)",
                hint="merge the two into one object",
            )
        result[key] = value
    return result


def load_json(text: str) -> Any:
    """Parse ``text`` as JSON, refusing duplicate keys; PolicyError with line and column."""
    try:
        return json.loads(text, object_pairs_hook=_pairs_without_duplicates)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            hint="check quotes, commas and brackets near that position",
        ) from None


def _strings(value: object, where: Location) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise PolicyError("must be a string or a list of strings", where=where)
    return tuple(str(item) for item in items)


def _actions(statement: Mapping[str, Any], where: Location) -> ActionMatcher:
    negated = "NotAction" in statement
    name = "NotAction" if negated else "Action"
    at = Location(where.policy, where.statement, where.sid, name)
    values = _strings(statement[name], at)
    for value in values:
        if value != "*" and not _ACTION.match(value):
            raise PolicyError(
                f"{value!r} is not an action (service:action, e.g. s3:GetObject)", where=at
            )
    return ActionMatcher.compile(values, negated=negated)


def _check_arn(value: str, where: Location) -> None:
    if value == "*":
        return
    parts = value.split(":", _ARN_PREFIX_COMPONENTS)
    complete = len(parts) == _ARN_PREFIX_COMPONENTS + 1
    if parts[0] != "arn" or not (complete or value.endswith("*")) or (complete and not parts[2]):
        raise PolicyError(
            f"{value!r} is not an ARN (arn:partition:service:region:account:resource) or *",
            where=where,
        )


def _resources(
    statement: Mapping[str, Any], where: Location, variables: bool
) -> ResourceMatcher | None:
    negated = "NotResource" in statement
    name = "NotResource" if negated else "Resource"
    if name not in statement:
        return None
    at = Location(where.policy, where.statement, where.sid, name)
    templates: list[Template] = []
    for value in _strings(statement[name], at):
        _check_arn(value, at)
        try:
            templates.append(parse_template(value, variables=variables, wildcards=True))
        except TemplateError as exc:
            raise PolicyError(str(exc), where=at) from None
    return ResourceMatcher.compile(tuple(templates), negated=negated)


def _exclusive(statement: Mapping[str, Any], first: str, second: str, where: Location) -> None:
    if first in statement and second in statement:
        raise PolicyError(f"a statement cannot have both {first} and {second}", where=where)


def _statement(raw: object, index: int, label: str | None, variables: bool) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError("a statement must be a JSON object", where=Location(label, index))
    sid = raw.get("Sid")
    where = Location(label, index, sid if isinstance(sid, str) else None)
    if sid is not None and not isinstance(sid, str):
        raise PolicyError("must be a string", where=Location(label, index, None, "Sid"))
    unknown = sorted(set(raw) - _ELEMENTS)
    if unknown:
        raise PolicyError(f"unknown element {unknown[0]!r}", where=where)
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(
            f'must be "Allow" or "Deny", not {effect!r}',
            where=Location(label, index, where.sid, "Effect"),
        )
    _exclusive(raw, "Action", "NotAction", where)
    _exclusive(raw, "Resource", "NotResource", where)
    _exclusive(raw, "Principal", "NotPrincipal", where)
    if "Action" not in raw and "NotAction" not in raw:
        raise PolicyError("a statement needs Action or NotAction", where=where)
    principal = not_principal = None
    if "Principal" in raw:
        at = Location(label, index, where.sid, "Principal")
        principal = compile_principal(raw["Principal"], at)
    if "NotPrincipal" in raw:
        at = Location(label, index, where.sid, "NotPrincipal")
        not_principal = compile_principal(raw["NotPrincipal"], at)
    conditions: tuple[Clause, ...] = ()
    if "Condition" in raw:
        conditions = compile_conditions(raw["Condition"], variables=variables, where=where)
    return Statement(
        index=index,
        sid=where.sid,
        effect=Effect(effect),
        actions=_actions(raw, where),
        resources=_resources(raw, where, variables),
        principal=principal,
        not_principal=not_principal,
        conditions=conditions,
    )


def parse_document(document: object, *, label: str | None = None, source_chars: int = 0) -> Policy:
    """Compile an already-decoded policy document (a JSON object)."""
    if not isinstance(document, dict):
        raise PolicyError("a policy must be a JSON object", where=Location(label))
    unknown = sorted(set(document) - _TOP_LEVEL)
    if unknown:
        raise PolicyError(
            f"unknown top-level element {unknown[0]!r} (Version, Id, Statement)",
            where=Location(label),
        )
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise PolicyError(
            f"Version must be {VERSIONS[0]!r} (or the legacy {VERSIONS[1]!r}), not {version!r}",
            where=Location(label, field="Version"),
        )
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyError("must be a string", where=Location(label, field="Id"))
    if "Statement" not in document:
        raise PolicyError("a policy needs a Statement element", where=Location(label))
    raw = document["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError("Statement is an empty list", where=Location(label, field="Statement"))
    variables = version == VERSIONS[0]
    statements = tuple(_statement(item, i, label, variables) for i, item in enumerate(items))
    return Policy(statements=statements, version=version, id=policy_id, source_chars=source_chars)


def parse_policy(source: str | Mapping[str, Any], *, label: str | None = None) -> Policy:
    """Compile a policy given as JSON text or as a decoded JSON object."""
    if isinstance(source, str):
        try:
            document = load_json(source)
        except PolicyError as exc:
            raise exc.in_policy(label) if label else exc from None
        return parse_document(document, label=label, source_chars=minified_length(source))
    document = dict(source) if isinstance(source, Mapping) else source
    return parse_document(document, label=label, source_chars=len(canonical_json(source)))


def canonical_json(document: object) -> str:
    """The compact JSON text of a document (its length is the document's size)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


class PolicyCache:
    """Compiled policies by JSON text, and interned policy sets, owned by the caller (a simulate
    batch, a guardrail run). Bounded: past ``max_entries`` it starts again."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max_entries = max_entries
        self._by_text: dict[str, Policy] = {}
        self._sets: dict[PolicySet, PolicySet] = {}

    def policy_set(self, policies: PolicySet) -> PolicySet:
        """The set already seen with the same policies (and its per-action plans), or this one."""
        known = self._sets.get(policies)
        if known is None:
            if len(self._sets) >= self._max_entries:
                self._sets.clear()
            known = self._sets[policies] = policies
        return known

    def __len__(self) -> int:
        return len(self._by_text)

    def get(self, source: str | Mapping[str, Any], *, label: str | None = None) -> Policy:
        """The compiled policy for ``source``; errors carry ``label`` (never cached)."""
        key = source if isinstance(source, str) else canonical_json(source)
        policy = self._by_text.get(key)
        if policy is None:
            try:
                policy = parse_policy(source)
            except PolicyError as exc:
                raise exc.in_policy(label) if label else exc from None
            if len(self._by_text) >= self._max_entries:
                self._by_text.clear()
            self._by_text[key] = policy
        return policy
