"""Load a fleet spec (``stockade.yaml``) and every template it references, or say what is wrong.

``load_spec`` reads the spec, validates it into a ``FleetSpec``, then reads, parses and lints
(cfn-lint, error-level rules, the spec's regions) each referenced CloudFormation template, and
returns a ``LoadedSpec`` with a content hash over the spec text and every template's text: the
identity of a release. ``load_spec_text`` validates spec text alone, without templates.

Every problem raises ``SpecError`` whose message names the file, the line and the field, e.g.
``stockade.yaml:14: tiers.pro.services[1]: unknown service 'billing'``, and whose hint says
what to do.

Who calls it: the CLI (``init``/``plan``/``apply``), the API (validating uploaded specs), the
engine (building a release), the scaffold tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from yaml.nodes import MappingNode, Node

from stockade.domain.errors import SpecError
from stockade.domain.spec import FleetSpec, ParamValue
from stockade.spec.files import Referenced, read_referenced
from stockade.spec.policies import policy_references, read_policy
from stockade.spec.problems import Problem, format_path, raise_problems
from stockade.spec.templates import TemplateInfo, TemplateLinter, read_template
from stockade.spec.validation import validate_spec
from stockade.spec.yamlpos import YamlDocument, locate, parse_yaml

__all__ = ["ENGINE_PARAMETERS", "LoadedSpec", "TemplateInfo", "load_spec", "load_spec_text"]

#: the parameters the engine itself passes to every stack whose template declares them
ENGINE_PARAMETERS = frozenset({"TenantId", "Tier", "ManagementAccountId"})

_INIT_HINT = "run `stockade init DIR` to write an example spec, or pass the right path"


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec and its templates, as one content-hashed unit."""

    spec: FleetSpec
    #: the spec file, resolved
    path: Path
    #: the spec's directory, resolved: template paths are relative to it
    root: Path
    #: keyed by the template path exactly as the spec writes it
    templates: dict[str, TemplateInfo]
    #: hex sha256 over the spec text and every template's text; the same files give the same hash
    content_hash: str
    #: the guardrails' policy documents (SCPs, test identity policies) by path as the spec writes it
    policies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Reference:
    """One place in the spec that names a template."""

    template: str
    loc: tuple[str | int, ...]
    parameters: Mapping[str, ParamValue]


@dataclass(frozen=True)
class _Source:
    """The spec being loaded: how messages name it, its node tree, and where templates live."""

    name: str
    node: Node
    #: the spec's directory as the caller spelled it (for messages) and resolved (for reading)
    spec_dir: Path
    root: Path

    def line(self, loc: tuple[str | int, ...]) -> int:
        return locate(self.node, loc).line

    def where(self, loc: tuple[str | int, ...]) -> str:
        return f"{self.name}:{self.line(loc)} ({format_path(loc)})"

    def display(self, template: str) -> str:
        return str(self.spec_dir / template)


def load_spec_text(text: str, *, name: str) -> FleetSpec:
    """Validate spec ``text`` (no templates are read); ``name`` is the file name in messages."""
    return validate_spec(*_document(text, name), name=name)


def load_spec_file(path: Path) -> FleetSpec:
    """Read and validate the spec at ``path``, without reading or linting its templates (for
    commands that need only the spec itself, such as its role names)."""
    return load_spec_text(_read_spec(path), name=str(path))


def load_spec(path: Path) -> LoadedSpec:
    """Read, validate and lint the spec at ``path`` and the templates it references."""
    name = str(path)
    text = _read_spec(path)
    data, root_node = _document(text, name)
    spec = validate_spec(data, root_node, name=name)

    resolved = path.resolve()
    source = _Source(name=name, node=root_node, spec_dir=path.parent, root=resolved.parent)
    references = _references(spec)
    templates = _read_templates(references, source)
    problems = _parameter_problems(references, templates, source)
    if problems:
        raise_problems(problems)
    _lint(spec, references, templates, source)
    policies = _read_policies(spec, source)
    return LoadedSpec(
        spec=spec,
        path=resolved,
        root=source.root,
        templates=templates,
        content_hash=_content_hash(text, templates, policies),
        policies=policies,
    )


def _read_spec(path: Path) -> str:
    """The spec file's text; ``SpecError`` saying what to do when it cannot be read."""
    name = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError(f"{name}: no such spec file", hint=_INIT_HINT) from exc
    except IsADirectoryError as exc:
        raise SpecError(
            f"{name}: is a directory, not a spec file",
            hint=f"pass the spec file itself, e.g. {path / 'stockade.yaml'}",
        ) from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{name}: is not UTF-8 text", hint="save the spec as UTF-8") from exc
    except OSError as exc:
        raise SpecError(f"{name}: cannot read: {exc.strerror}", hint=_INIT_HINT) from exc


def _read_policies(spec: FleetSpec, source: _Source) -> dict[str, str]:
    policies: dict[str, str] = {}
    problems: list[Problem] = []
    for ref in policy_references(spec):
        if ref.path in policies:
            continue
        outcome = read_policy(
            ref,
            root=source.root,
            display=source.display(ref.path),
            spec_name=source.name,
            line=source.line(ref.loc),
        )
        if isinstance(outcome, Problem):
            problems.append(outcome)
        else:
            policies[ref.path] = outcome
    if problems:
        raise_problems(problems)
    return policies


def _document(text: str, name: str) -> tuple[object, Node]:
    document: YamlDocument | None = parse_yaml(text, name=name)
    if document is None:
        raise SpecError(f"{name}: the spec is empty", hint=_INIT_HINT)
    if not isinstance(document.root, MappingNode) or not isinstance(document.data, dict):
        raise SpecError(
            f"{name}:{document.root.start_mark.line + 1}: the top level must be a mapping "
            "(version, organization, regions, naming, baseline, services, tiers, rollout, limits)",
            hint="write the spec as `key: value` entries at the top level",
        )
    return document.data, document.root


def _references(spec: FleetSpec) -> list[_Reference]:
    refs = [
        _Reference(stack.template, ("baseline", "stacks", index, "template"), stack.parameters)
        for index, stack in enumerate(spec.baseline.stacks)
    ]
    refs += [
        _Reference(service.template, ("services", service_name, "template"), service.parameters)
        for service_name, service in spec.services.items()
    ]
    return refs


def _read_templates(references: list[_Reference], source: _Source) -> dict[str, TemplateInfo]:
    templates: dict[str, TemplateInfo] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for ref in references:
        if ref.template in seen:
            continue
        seen.add(ref.template)
        outcome = _read_one(ref, source)
        if isinstance(outcome, TemplateInfo):
            templates[ref.template] = outcome
        else:
            problems.append(outcome)
    if problems:
        raise_problems(problems)
    return templates


def _read_one(ref: _Reference, source: _Source) -> TemplateInfo | Problem:
    display = source.display(ref.template)
    read = read_referenced(
        Referenced(
            kind="template",
            path=ref.template,
            example="templates/app.yaml",
            spec_name=source.name,
            line=source.line(ref.loc),
            field=format_path(ref.loc),
        ),
        root=source.root,
        display=display,
    )
    if isinstance(read, Problem):
        return read
    target, body = read
    outcome = read_template(target, body, display=display)
    if isinstance(outcome, Problem):
        return replace(outcome, hint=f"{outcome.hint}; it is used by {source.where(ref.loc)}")
    return outcome


def _parameter_problems(
    references: list[_Reference], templates: dict[str, TemplateInfo], source: _Source
) -> list[Problem]:
    """Parameters the spec sets must be declared by the template, and not be the engine's."""
    problems: list[Problem] = []
    for ref in references:
        declared = templates[ref.template].parameters
        for key in ref.parameters:
            loc = (*ref.loc[:-1], "parameters", key)
            if key in ENGINE_PARAMETERS:
                message = f"{key} is passed by the engine for each tenant; do not set it here"
                hint = "remove it: the engine passes " + ", ".join(sorted(ENGINE_PARAMETERS))
            elif key not in declared:
                message = f"template {ref.template} declares no parameter {key!r}"
                hint = (
                    f"declared: {', '.join(sorted(declared)) or 'none'}; CloudFormation rejects "
                    "undeclared parameters"
                )
            else:
                continue
            problems.append(
                Problem(source.name, source.line(loc), message, hint=hint, field=format_path(loc))
            )
    return problems


def _lint(
    spec: FleetSpec,
    references: list[_Reference],
    templates: dict[str, TemplateInfo],
    source: _Source,
) -> None:
    if not templates:
        return
    known = TemplateLinter.known_regions()
    unknown = [
        Problem(
            source.name,
            source.line(("regions", index)),
            f"{region!r} is not a region cfn-lint knows",
            hint="use an existing AWS region code",
            field=format_path(("regions", index)),
        )
        for index, region in enumerate(spec.regions)
        if region not in known
    ]
    if unknown:
        raise_problems(unknown)
    linter = TemplateLinter(spec.regions)
    problems: list[Problem] = []
    linted: set[str] = set()
    for ref in references:
        if ref.template in linted:
            continue
        linted.add(ref.template)
        problems += linter.lint(
            templates[ref.template],
            display=source.display(ref.template),
            referenced_from=source.where(ref.loc),
        )
    if problems:
        raise_problems(problems)


def _content_hash(
    spec_text: str, templates: dict[str, TemplateInfo], policies: dict[str, str]
) -> str:
    digest = hashlib.sha256(b"stockade-spec/1\n")
    spec_bytes = spec_text.encode("utf-8")
    digest.update(f"spec {len(spec_bytes)}\n".encode())
    digest.update(spec_bytes)
    for key in sorted(templates):
        body = templates[key].body.encode("utf-8")
        digest.update(f"\ntemplate {len(key.encode('utf-8'))} {len(body)}\n{key}\n".encode())
        digest.update(body)
    for key in sorted(policies):
        body = policies[key].encode("utf-8")
        digest.update(f"\npolicy {len(key.encode('utf-8'))} {len(body)}\n{key}\n".encode())
        digest.update(body)
    return digest.hexdigest()
