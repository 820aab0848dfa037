"""CloudFormation templates referenced by the fleet spec: parse, summarize and lint them.

``read_template`` parses CloudFormation YAML (with the short-form intrinsic tags such as
``!Ref`` and ``!GetAtt``) or JSON and returns a ``TemplateInfo``: its logical ids and resource
types, its declared parameter names and the sha256 of its text. ``TemplateLinter`` runs cfn-lint
(error-level rules only, the spec's regions) over each distinct template once. One linter lives
for one spec load: building cfn-lint's rule set costs about half a second, then each template
costs roughly 0.05-0.2 s depending on its size. cfn-lint is imported lazily, so validating spec
text alone never pays its ~1 s import.

Who calls it: ``spec.loader``. The sandbox may reuse ``read_template`` to compare a deployed
stack's resources with its template.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stockade.spec.problems import Problem, format_path
from stockade.spec.yamlpos import YamlError, locate, parse_yaml

#: short-form intrinsic tags and the long-form key each stands for
SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Sub",
            "GetAtt",
            "Join",
            "If",
            "Equals",
            "Select",
            "Split",
            "FindInMap",
            "Base64",
            "Cidr",
            "ImportValue",
            "GetAZs",
            "And",
            "Or",
            "Not",
        )
    },
}

_TEMPLATE_HINT = "a template must be CloudFormation YAML or JSON with a Resources mapping"


@dataclass(frozen=True)
class TemplateInfo:
    """One template as read from disk, with what the engine needs to know about it."""

    #: the resolved, absolute path
    path: Path
    body: str
    #: logical id → resource type, in template order
    resources: dict[str, str]
    #: the names declared under ``Parameters``
    parameters: frozenset[str]
    #: hex sha256 of the UTF-8 text
    sha256: str


class CfnYamlLoader(yaml.SafeLoader):
    """A safe YAML loader that turns ``!Ref x`` into ``{"Ref": "x"}`` and so on."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: Node) -> dict[str, Any]:
    key = SHORT_TAGS.get(suffix)
    if key is None:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown CloudFormation tag !{suffix}", node.start_mark
        )
    value: Any
    if isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - PyYAML composes only these three node kinds
        raise TypeError(node)
    return {key: value}


CfnYamlLoader.add_multi_constructor("!", _construct_intrinsic)


def read_template(path: Path, body: str, *, display: str) -> TemplateInfo | Problem:
    """Summarize the template ``body`` read from ``path``, or the problem that prevents it."""
    try:
        data, root = _parse(body, display)
    except _ParseFailure as failure:
        return failure.problem
    line_of = _line_finder(root, body)
    if not isinstance(data, Mapping):
        return Problem(display, 1, "the top level must be a mapping", hint=_TEMPLATE_HINT)
    resources = data.get("Resources")
    if not isinstance(resources, Mapping) or not resources:
        message = (
            "Resources is missing"
            if resources is None
            else "Resources must be a non-empty mapping of logical ids to resources"
        )
        line = line_of(("Resources",)) if "Resources" in data else 1
        return Problem(display, line, message, hint=_TEMPLATE_HINT, field="Resources")
    types: dict[str, str] = {}
    for logical_id, resource in resources.items():
        kind = resource.get("Type") if isinstance(resource, Mapping) else None
        if not isinstance(kind, str):
            parts = ("Resources", str(logical_id))
            return Problem(
                display,
                line_of(parts),
                "every resource needs a Type such as AWS::SQS::Queue",
                hint=_TEMPLATE_HINT,
                field=format_path(parts),
            )
        types[str(logical_id)] = kind
    declared = data.get("Parameters")
    parameters = (
        frozenset(str(k) for k in declared) if isinstance(declared, Mapping) else frozenset()
    )
    return TemplateInfo(
        path=path,
        body=body,
        resources=types,
        parameters=parameters,
        sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
    )


class _ParseFailure(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.render())
        self.problem = problem


def _parse(body: str, display: str) -> tuple[object, Node | None]:
    if display.endswith(".json") or body.lstrip().startswith("{"):
        try:
            return json.loads(body), None
        except json.JSONDecodeError as exc:
            raise _ParseFailure(
                Problem(display, exc.lineno, exc.msg, hint=_TEMPLATE_HINT, column=exc.colno)
            ) from exc
    try:
        document = parse_yaml(body, name=display, loader=CfnYamlLoader, hint=_TEMPLATE_HINT)
    except YamlError as exc:
        raise _ParseFailure(exc.problem) from exc
    if document is None:
        raise _ParseFailure(Problem(display, None, "the template is empty", hint=_TEMPLATE_HINT))
    return document.data, document.root


def _line_finder(root: Node | None, body: str) -> Callable[[tuple[str, ...]], int]:
    """A function from a key path to a line: exact for YAML, the first mention for JSON."""

    def find(parts: tuple[str, ...]) -> int:
        if root is not None:
            return locate(root, parts).line
        needle = json.dumps(parts[-1])
        for number, text in enumerate(body.splitlines(), start=1):
            if needle in text:
                return number
        return 1

    return find


@dataclass(frozen=True)
class _Finding:
    line: int
    column: int
    rule_id: str
    message: str
    title: str
    path: str


class TemplateLinter:
    """cfn-lint for one spec load: builds the rule set once, lints each distinct body once."""

    def __init__(self, regions: Iterable[str]) -> None:
        self._regions = list(regions)
        self._runner: Any = None
        self._seen: dict[str, list[_Finding]] = {}

    def lint(self, info: TemplateInfo, *, display: str, referenced_from: str) -> list[Problem]:
        """The error-level cfn-lint findings for ``info``, located in ``display``."""
        findings = self._seen.get(info.sha256)
        if findings is None:
            findings = self._run(info.body)
            self._seen[info.sha256] = findings
        return [
            Problem(
                display,
                finding.line,
                f"{finding.rule_id} {finding.message}",
                hint=f"fix the template (cfn-lint {finding.rule_id}: {finding.title}); it is "
                f"used by {referenced_from}",
                field=finding.path,
                column=finding.column,
            )
            for finding in findings
        ]

    def _run(self, body: str) -> list[_Finding]:
        # cfnlint.api.lint(rules=...) rebuilds the rule set unless given a legacy
        # RulesCollection, so drive cfn-lint's runner directly and build its rules only once
        from cfnlint.config import ConfigMixIn
        from cfnlint.decode.decode import decode_str
        from cfnlint.runner import Runner

        if self._runner is None:
            self._runner = Runner(ConfigMixIn([], regions=self._regions))
        template, matches = decode_str(body)
        if not matches and template is not None:
            matches = list(self._runner.validate_template(template))
        found: list[_Finding] = []
        for match in matches:
            rule_id = str(match.rule.id)
            if not rule_id.startswith("E"):
                continue
            path = getattr(match, "path", None) or []
            found.append(
                _Finding(
                    line=int(match.linenumber),
                    column=int(match.columnnumber),
                    rule_id=rule_id,
                    message=str(match.message),
                    title=str(match.rule.shortdesc),
                    path=format_path([p if isinstance(p, int) else str(p) for p in path]),
                )
            )
        return found

    @staticmethod
    def known_regions() -> frozenset[str]:
        """The region codes cfn-lint has data for (it refuses to lint for any other)."""
        from cfnlint.helpers import REGIONS

        return frozenset(str(region) for region in REGIONS)
