"""CloudFormation templates read locally, before any call: which parameters a template
declares, their defaults, and the parameter set a deployment must send.

AWS rejects an undeclared parameter, or a required one left out, at CreateChangeSet; checking
first turns that into an immediate, clear error.

Who calls it: ``cloud.aws.cloudformation_changesets``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import yaml

from stockade.domain.errors import StackDeploymentFailed

TEMPLATE_HINT = "fix the template or its parameters (cfn-lint), then deploy again"


class _TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML with CloudFormation's short-form intrinsics (``!Ref``, ``!Sub`` ...) as plain data."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    if isinstance(node, yaml.MappingNode):
        return {suffix: loader.construct_mapping(node, deep=True)}
    return None  # pragma: no cover - every node is one of the three


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def _parameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_parameter_text(v) for v in value)
    return str(value)


@lru_cache(maxsize=64)
def _declared_parameters(template_body: str) -> tuple[tuple[str, str | None], ...]:
    """The template's parameters with their defaults (None: no default), in order.

    Raises ``StackDeploymentFailed`` when the body is not a JSON or YAML mapping. Cached: a
    rollout sends one template to thousands of accounts.
    """
    try:
        if template_body.lstrip().startswith("{"):
            document = json.loads(template_body)
        else:
            document = yaml.load(template_body, Loader=_TemplateLoader)  # noqa: S506 - safe
    except (ValueError, yaml.YAMLError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StackDeploymentFailed(
            f"the template is neither valid JSON nor valid YAML: {first_line}", hint=TEMPLATE_HINT
        ) from exc
    if not isinstance(document, dict):
        raise StackDeploymentFailed(
            "the template is not a JSON or YAML mapping", hint=TEMPLATE_HINT
        )
    slots = document.get("Parameters") or {}
    if not isinstance(slots, dict):
        raise StackDeploymentFailed(
            "the template's Parameters are not a mapping", hint=TEMPLATE_HINT
        )
    declared: list[tuple[str, str | None]] = []
    for key, slot in slots.items():
        default = slot.get("Default") if isinstance(slot, dict) else None
        declared.append((str(key), None if default is None else _parameter_text(default)))
    return tuple(declared)


def resolve_parameters(template_body: str, parameters: dict[str, str]) -> dict[str, str]:
    """Every parameter the stack gets: the given ones, then the template's defaults.

    Raises ``StackDeploymentFailed`` (as AWS would at ``CreateChangeSet``) for a parameter the
    template does not declare or a declared one with neither a value nor a default.
    """
    declared = _declared_parameters(template_body)
    names = {name for name, _ in declared}
    unknown = sorted(set(parameters) - names)
    if unknown:
        raise StackDeploymentFailed(
            f"parameters {unknown} are not declared in the template", hint=TEMPLATE_HINT
        )
    resolved: dict[str, str] = {}
    missing: list[str] = []
    for name, default in declared:
        if name in parameters:
            resolved[name] = parameters[name]
        elif default is not None:
            resolved[name] = default
        else:
            missing.append(name)
    if missing:
        raise StackDeploymentFailed(
            f"parameters {missing} have no value and no default in the template",
            hint=TEMPLATE_HINT,
        )
    return resolved
