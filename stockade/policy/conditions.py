"""The Condition element: every AWS condition operator, compiled once, evaluated per request.

Operators live in one table (``OPERATORS``: lowercase name -> ``OperatorSpec``), each naming how
its policy values compile into a ``ValueSet`` (whose ``matches`` tests one context value against
all policy values: OR) and whether it is negated. Negated operators (``StringNotEquals``,
``NotIpAddress``, ``ArnNotLike``...) are the negation of the positive test, so several policy
values combine as NOR, as AWS documents.

Semantics (AWS IAM User Guide, "Condition operators" and "Conditions with multiple context keys
or values"):

* A clause is one (operator, key) pair; a statement's clauses are ANDed.
* A key missing from the request context makes a positive operator false and a negated one true
  ("If the policy condition requires that the key is *not* matched ... and the right key is not
  present, the condition is true"); ``...IfExists`` makes a missing key true; ``Null: true``
  holds exactly when the key is missing.
* ``ForAllValues:`` holds when every context value passes (vacuously true for a missing key or an
  empty set, including an empty string); ``ForAnyValue:`` when at least one does (false when
  missing or empty).
* A multivalued context key under an unqualified operator passes when any of its values matches
  (negated: when none does).
* Policy variables are allowed in string and ARN operators only; an unresolved variable makes
  the clause false. ``Bool`` takes ``true``/``false``; ``Numeric*`` integers or decimals;
  ``Date*`` ISO 8601 or epoch seconds; ``IpAddress`` IPv4/IPv6 addresses or CIDRs;
  ``BinaryEquals`` base64. Bad policy values and unknown operators are ``PolicyError`` at parse
  time; a context value of the wrong type simply does not match.

Who calls it: ``policy.parse`` (``compile_conditions``), ``policy.evaluate`` (``Clause.holds``),
``policy.lint`` (reads clauses).
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from stockade.policy.errors import Location, PolicyError
from stockade.policy.values import (
    ValueSet,
    binary_values,
    bool_values,
    exact_values,
    ignore_case_values,
    network_values,
    ordered_values,
    parse_date,
    parse_number,
    pattern_values,
    texts,
)
from stockade.policy.variables import (
    Context,
    Template,
    TemplateError,
    has_variables,
    parse_template,
    resolve,
)

#: resolved value sets with variables remembered per clause (then forgotten all at once)
_RESOLVED_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """How one base condition operator compiles and evaluates."""

    name: str
    compile: Callable[[tuple[Template, ...]], ValueSet]
    negated: bool = False
    #: policy variables are substituted in its values (string and ARN operators)
    variables: bool = False
    #: ``*`` and ``?`` in its values are wildcards
    wildcards: bool = False
    #: the equality operator it negates or is (for the linter's contradiction check)
    family: str = ""


def _specs() -> dict[str, OperatorSpec]:
    number = "a number"
    date = "an ISO 8601 date or epoch seconds"
    comparisons: Mapping[str, Callable[[float, float], bool]] = {
        "Equals": operator.eq,
        "NotEquals": operator.eq,
        "LessThan": operator.lt,
        "LessThanEquals": operator.le,
        "GreaterThan": operator.gt,
        "GreaterThanEquals": operator.ge,
    }
    specs = [
        OperatorSpec("StringEquals", exact_values, variables=True, family="string"),
        OperatorSpec("StringNotEquals", exact_values, True, True, family="string"),
        OperatorSpec(
            "StringEqualsIgnoreCase", ignore_case_values, variables=True, family="stringi"
        ),
        OperatorSpec("StringNotEqualsIgnoreCase", ignore_case_values, True, True, family="stringi"),
        OperatorSpec("StringLike", pattern_values(False), False, True, True, family="like"),
        OperatorSpec("StringNotLike", pattern_values(False), True, True, True, family="like"),
        OperatorSpec("Bool", bool_values, family="bool"),
        OperatorSpec("BinaryEquals", binary_values, family="binary"),
        OperatorSpec("IpAddress", network_values, family="ip"),
        OperatorSpec("NotIpAddress", network_values, True, family="ip"),
        OperatorSpec("ArnEquals", pattern_values(True), False, True, True, family="arn"),
        OperatorSpec("ArnLike", pattern_values(True), False, True, True, family="arn"),
        OperatorSpec("ArnNotEquals", pattern_values(True), True, True, True, family="arn"),
        OperatorSpec("ArnNotLike", pattern_values(True), True, True, True, family="arn"),
    ]
    for suffix, compare in comparisons.items():
        negated = suffix == "NotEquals"
        specs.append(
            OperatorSpec(
                f"Numeric{suffix}",
                ordered_values(compare, parse_number, number),
                negated,
                family=f"numeric{suffix}",
            )
        )
        specs.append(
            OperatorSpec(
                f"Date{suffix}",
                ordered_values(compare, parse_date, date),
                negated,
                family=f"date{suffix}",
            )
        )
    return {spec.name.lower(): spec for spec in specs}


#: every base operator by lowercase name (``Null`` is handled by ``Clause`` itself)
OPERATORS: Mapping[str, OperatorSpec] = _specs()
_NULL = OperatorSpec("Null", bool_values, family="null")


class Qualifier(StrEnum):
    FOR_ANY_VALUE = "ForAnyValue"
    FOR_ALL_VALUES = "ForAllValues"


_QUALIFIERS = {q.value.lower(): q for q in Qualifier}


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``"Operator": {"key": values}`` pair, compiled."""

    operator: str
    key: str
    key_lower: str
    spec: OperatorSpec
    qualifier: Qualifier | None
    if_exists: bool
    templates: tuple[Template, ...]
    #: compiled values; None when they hold policy variables (compiled per request)
    values: ValueSet | None
    #: for ``Null``: which answers make the clause true (True: the key is missing)
    null: frozenset[bool] | None = None
    _compiled: dict[tuple[Template, ...], ValueSet] = field(
        default_factory=dict, repr=False, compare=False
    )

    def holds(self, context: Context) -> bool:
        value = context.get(self.key_lower)
        if self.null is not None:
            missing = value is None or value == ()
            return missing in self.null
        if self.qualifier is not None and value in ("", ()):
            value = None
        if value is None or value == ():
            if self.if_exists or self.qualifier is Qualifier.FOR_ALL_VALUES:
                return True
            if self.qualifier is Qualifier.FOR_ANY_VALUE:
                return False
            return self.spec.negated
        values = self.values if self.values is not None else self._resolved(context)
        if values is None:
            return False
        negated = self.spec.negated
        if isinstance(value, str):  # one value: ForAllValues and ForAnyValue agree
            return values.matches(value) != negated
        if self.qualifier is None:
            return any(values.matches(v) for v in value) != negated
        if self.qualifier is Qualifier.FOR_ALL_VALUES:
            return all(values.matches(v) != negated for v in value)
        return any(values.matches(v) != negated for v in value)

    def _resolved(self, context: Context) -> ValueSet | None:
        resolved: list[Template] = []
        for template in self.templates:
            value = resolve(template, context)
            if value is None:
                return None
            resolved.append(value)
        key = tuple(resolved)
        values = self._compiled.get(key)
        if values is None:
            if len(self._compiled) >= _RESOLVED_LIMIT:
                self._compiled.clear()
            values = self._compiled[key] = self.spec.compile(key)
        return values


def _lookup(name: str, where: Location) -> tuple[Qualifier | None, OperatorSpec, bool]:
    qualifier: Qualifier | None = None
    base = name
    prefix, sep, rest = name.partition(":")
    if sep:
        qualifier = _QUALIFIERS.get(prefix.lower())
        if qualifier is None:
            raise PolicyError(
                f"unknown set operator {prefix!r} (ForAnyValue or ForAllValues)", where=where
            )
        base = rest
    lowered = base.lower()
    if_exists = lowered.endswith("ifexists") and lowered != "ifexists"
    if if_exists:
        lowered = lowered[: -len("ifexists")]
    if lowered == "null":
        if if_exists:
            raise PolicyError("Null cannot take IfExists", where=where)
        return qualifier, _NULL, False
    spec = OPERATORS.get(lowered)
    if spec is None:
        names = [s.name for s in OPERATORS.values()] + ["Null"]
        close = difflib.get_close_matches(base, names, n=1)
        raise PolicyError(
            f"unknown condition operator {name!r}",
            where=where,
            hint=f"did you mean {close[0]!r}?" if close else "see the IAM condition operators",
        )
    return qualifier, spec, if_exists


def _raw_values(raw: object, where: Location) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError("a condition key needs at least one value", where=where)
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, int | float):
            out.append(str(item))
        else:
            raise PolicyError(
                f"condition value {item!r} is not a string, number or boolean", where=where
            )
    return out


def compile_clause(name: str, key: str, raw: object, *, variables: bool, where: Location) -> Clause:
    """One clause; PolicyError naming ``where`` for an unknown operator or a bad value."""
    qualifier, spec, if_exists = _lookup(name, where)
    raw_texts = _raw_values(raw, where)
    use_variables = variables and spec.variables
    try:
        templates = tuple(
            parse_template(text, variables=use_variables, wildcards=spec.wildcards)
            for text in raw_texts
        )
        if spec is _NULL:
            spec.compile(templates)  # validates true/false
            null = frozenset(text.lower() == "true" for text in texts(templates))
            return Clause(name, key, key.lower(), spec, qualifier, False, templates, None, null)
        dynamic = any(has_variables(t) for t in templates)
        values = None if dynamic else spec.compile(templates)
    except (ValueError, TemplateError) as exc:
        raise PolicyError(f"{name}: {exc}", where=where) from None
    return Clause(name, key, key.lower(), spec, qualifier, if_exists, templates, values)


def compile_conditions(block: object, *, variables: bool, where: Location) -> tuple[Clause, ...]:
    """Every clause of a ``Condition`` element (operator -> condition key -> values)."""
    if not isinstance(block, dict):
        raise PolicyError("Condition must be an object of operators", where=where)
    clauses: list[Clause] = []
    for name, keys in block.items():
        at = Location(where.policy, where.statement, where.sid, f"Condition.{name}")
        if not isinstance(keys, dict) or not keys:
            raise PolicyError(f"{name} must be an object of condition keys to values", where=at)
        for key, raw in keys.items():
            at_key = Location(where.policy, where.statement, where.sid, f"Condition.{name}.{key}")
            clauses.append(compile_clause(name, key, raw, variables=variables, where=at_key))
    return tuple(clauses)
