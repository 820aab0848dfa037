"""Validate parsed spec data into a ``FleetSpec``, reporting problems at YAML lines.

Pydantic reports error locations as paths (``("tiers", "pro", "services", 1)``); this module
maps each back to the line of the nearest YAML node, rewrites pydantic's wording into the
user's terms (YAML lists and mappings, not tuples and models), adds a hint, and points
model-level errors (which pydantic reports at the model, not the field) at the field at fault.

Who calls it: ``spec.loader`` (``load_spec`` and ``load_spec_text``).
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from typing import Any, Union, get_args, get_origin

import pydantic
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node

from stockade.domain.spec import FleetSpec
from stockade.spec.problems import Problem, format_path, raise_problems
from stockade.spec.yamlpos import locate, mapping_keys

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_EXAMPLE_HINT = "`stockade init` writes a complete, commented example spec to compare with"

#: pydantic error types that mean "wrong kind of value", and what the right kind is in YAML terms
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def validate_spec(data: object, root: Node, *, name: str) -> FleetSpec:
    """``FleetSpec`` from ``data`` (parsed from ``root``), or ``SpecError`` naming lines/fields."""
    try:
        spec = FleetSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        raise_problems(_problems(exc.errors(include_url=False), data, root, name))
    bad_regions = [
        Problem(
            name,
            locate(root, ("regions", index)).line,
            f"{region!r} is not an AWS region name",
            hint="use region codes such as us-east-1 or eu-west-2",
            field=format_path(("regions", index)),
        )
        for index, region in enumerate(spec.regions)
        if not _REGION.match(region)
    ]
    if bad_regions:
        raise_problems(bad_regions)
    return spec


def _problems(errors: Sequence[ErrorDetails], data: object, root: Node, name: str) -> list[Problem]:
    grouped: dict[tuple[int, str], list[ErrorDetails]] = {}
    problems: list[Problem] = []
    for error in errors:
        loc = tuple(error["loc"])
        location = locate(root, loc)
        parts = location.parts
        if error["type"] in ("missing", "extra_forbidden") and len(parts) == len(loc) - 1:
            parts = loc
        if error["type"] in _EXPECTED:
            grouped.setdefault((location.line, format_path(parts)), []).append(error)
            continue
        if not loc and error["type"] == "value_error":
            problems.append(_root_problem(error, data, root, name))
            continue
        line = location.line
        if error["type"] == "value_error" and len(parts) == len(loc):
            # a model validator: point at the field its message starts with, if there is one
            for key in mapping_keys(location.node):
                if _message(error).startswith(f"{key} "):
                    parts = (*parts, key)
                    line = locate(root, parts).line
                    break
        problems.append(_problem(error, name, line, parts))
    for (line, path), same in grouped.items():
        problems.append(_type_problem(same, name, line, path))
    return sorted(problems, key=lambda p: p.line or 0)


def _message(error: ErrorDetails) -> str:
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _problem(error: ErrorDetails, name: str, line: int, parts: Sequence[str | int]) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        where = "top-level keys" if len(loc) == 1 else "fields here"
        hint = (
            f"remove it or fix the spelling; allowed {where}: {', '.join(allowed)}"
            if allowed
            else "remove it or fix the spelling"
        )
        return Problem(name, line, "unknown field", hint=hint, field=format_path(parts))
    if kind == "missing":
        return Problem(
            name,
            line,
            "required field is missing",
            hint=f"add it; {_EXAMPLE_HINT}",
            field=format_path(parts),
        )
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return Problem(
            name,
            line,
            f"must be {expected}, got {_describe(error['input'])}" if expected else _message(error),
            hint="use one of the listed values",
            field=format_path(parts),
        )
    return Problem(name, line, _message(error), hint=_EXAMPLE_HINT, field=format_path(parts))


def _type_problem(errors: Sequence[ErrorDetails], name: str, line: int, path: str) -> Problem:
    expected: list[str] = []
    for error in errors:
        word = _EXPECTED[error["type"]]
        if word not in expected:
            expected.append(word)
    wanted = expected[0] if len(expected) == 1 else ", ".join(expected[:-1]) + " or " + expected[-1]
    value = errors[0]["input"]
    got = _describe(value)
    hint = "change the value to the expected kind"
    if isinstance(value, bool) and "a string" in expected:
        hint = "quote the value: YAML reads yes/no/on/off/true/false as booleans"
    elif "a list" in expected and not isinstance(value, list | tuple | Mapping):
        hint = "write a YAML list: [a, b] or one '- item' per line"
    return Problem(name, line, f"expected {wanted}, got {got}", hint=hint, field=path)


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _root_problem(error: ErrorDetails, data: object, root: Node, name: str) -> Problem:
    """Locate the cross-checks ``FleetSpec`` runs over the whole document."""
    message = _message(error)
    if isinstance(data, Mapping):
        services = data.get("services")
        known = sorted(services) if isinstance(services, Mapping) else []
        tiers = data.get("tiers")
        for tier_name, tier in tiers.items() if isinstance(tiers, Mapping) else ():
            used = tier.get("services") if isinstance(tier, Mapping) else None
            for index, service in enumerate(used if isinstance(used, list) else ()):
                if service not in known:
                    parts = ("tiers", tier_name, "services", index)
                    return Problem(
                        name,
                        locate(root, parts).line,
                        f"unknown service {service!r}",
                        hint="define it under services: or remove it from the tier; known "
                        f"services: {', '.join(known) or 'none'}",
                        field=format_path(parts),
                    )
        for key in ("tiers", "regions"):
            if key in data and not data[key]:
                return Problem(
                    name, locate(root, (key,)).line, message, hint=_EXAMPLE_HINT, field=key
                )
    line = root.start_mark.line + 1 if isinstance(root, MappingNode) else 1
    return Problem(name, line, message, hint=_EXAMPLE_HINT)


def _fields_at(loc: Sequence[str | int]) -> list[str]:
    """The field names of the spec model found at ``loc``, or ``[]`` if that is no model."""
    annotation: Any = FleetSpec
    for elem in loc:
        annotation = _step(annotation, elem)
        if annotation is None:
            return []
    model = _as_model(annotation)
    return sorted(model.model_fields) if model is not None else []


def _step(annotation: Any, elem: str | int) -> Any:
    model = _as_model(annotation)
    if model is not None:
        field = model.model_fields.get(str(elem))
        return field.annotation if field is not None else None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is tuple and isinstance(elem, int) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _as_model(annotation: Any) -> type[pydantic.BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel):
                return arg
    return None
