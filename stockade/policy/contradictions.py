"""Finding Condition blocks that can never hold (the statement can then never apply).

Checked per statement, per condition key (case-insensitively), on clauses without a set
qualifier and without policy variables:

* ``StringEquals`` (or ``...IgnoreCase``, ``NumericEquals``, ``ArnEquals`` without wildcards)
  whose every value is excluded by the matching negated operator on the same key;
* two ``Bool`` clauses (one without ``IfExists``) that share no value;
* ``Null: true`` (the key must be missing) next to a positive operator without ``IfExists``
  (which needs the key present);
* ``Numeric``/``Date`` ``LessThan``/``GreaterThan`` bounds that leave an empty range.

A clause with ``IfExists`` is true when the key is missing, so it only contradicts when the
other clause requires the key to be present.

Who calls it: ``policy.lint``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from stockade.policy.conditions import Clause
from stockade.policy.values import parse_date, parse_number
from stockade.policy.variables import has_variables, has_wildcards, literal_text


#: equality family -> how values compare
def _same(text: str) -> str:
    return text


_EQUALITY: dict[str, Callable[[str], str]] = {
    "string": _same,
    "stringi": str.casefold,
    "arn": _same,
}


def _plain(clause: Clause) -> bool:
    return clause.qualifier is None and not any(has_variables(t) for t in clause.templates)


def _texts(clause: Clause) -> set[str]:
    return {literal_text(t) for t in clause.templates}


def _equality_conflict(clauses: list[Clause]) -> str | None:
    for positive in clauses:
        spec = positive.spec
        if spec.negated or positive.if_exists:
            continue
        if spec.family in _EQUALITY and not any(has_wildcards(t) for t in positive.templates):
            norm = _EQUALITY[spec.family]
            wanted = {norm(v) for v in _texts(positive)}
            for negative in clauses:
                if negative.spec.negated and negative.spec.family == spec.family:
                    if any(has_wildcards(t) for t in negative.templates):
                        continue
                    if wanted <= {norm(v) for v in _texts(negative)}:
                        return f"{positive.operator} and {negative.operator} exclude each other"
        if spec.family == "numericEquals":
            wanted_numbers = {parse_number(v) for v in _texts(positive)}
            for negative in clauses:
                excluded = {parse_number(v) for v in _texts(negative)}
                if negative.spec.family == "numericNotEquals" and wanted_numbers <= excluded:
                    return f"{positive.operator} and {negative.operator} exclude each other"
    return None


def _bool_conflict(clauses: list[Clause]) -> str | None:
    bools = [c for c in clauses if c.spec.family == "bool"]
    for first in bools:
        for second in bools:
            if first is second or first.if_exists:
                continue
            one = {v.lower() for v in _texts(first)}
            two = {v.lower() for v in _texts(second)}
            if not one & two:
                return f"{first.operator} and {second.operator} want different values"
    return None


def _null_conflict(clauses: list[Clause]) -> str | None:
    for null in clauses:
        if null.null == frozenset({True}):
            for other in clauses:
                if other.null is None and not other.if_exists and not other.spec.negated:
                    return f"Null requires the key to be missing but {other.operator} needs it"
    return None


def _range_conflict(clauses: list[Clause], kind: str) -> str | None:
    parse = parse_number if kind == "numeric" else parse_date
    lower: tuple[float, bool] | None = None  # (bound, strict)
    upper: tuple[float, bool] | None = None
    for clause in clauses:
        family = clause.spec.family
        if not family.startswith(kind) or clause.if_exists:
            continue
        values = [v for v in (parse(t) for t in _texts(clause)) if v is not None]
        if not values:
            continue
        suffix = family[len(kind) :]
        if suffix in ("LessThan", "LessThanEquals"):
            bound = (max(values), suffix == "LessThan")
            upper = bound if upper is None or bound[0] < upper[0] else upper
        elif suffix in ("GreaterThan", "GreaterThanEquals"):
            bound = (min(values), suffix == "GreaterThan")
            lower = bound if lower is None or bound[0] > lower[0] else lower
    if lower is None or upper is None:
        return None
    if lower[0] > upper[0] or (lower[0] == upper[0] and (lower[1] or upper[1])):
        return f"the {kind} bounds leave no possible value"
    return None


def contradictions(clauses: Iterable[Clause]) -> list[tuple[str, str]]:
    """(condition key, why) for every key whose clauses can never all hold."""
    by_key: dict[str, list[Clause]] = defaultdict(list)
    for clause in clauses:
        if _plain(clause):
            by_key[clause.key_lower].append(clause)
    found: list[tuple[str, str]] = []
    for group in by_key.values():
        checks = (
            _equality_conflict(group),
            _bool_conflict(group),
            _null_conflict(group),
            _range_conflict(group, "numeric"),
            _range_conflict(group, "date"),
        )
        found.extend((group[0].key, why) for why in checks if why)
    return found
