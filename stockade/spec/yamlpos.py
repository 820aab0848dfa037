"""YAML parsing that keeps positions, so errors can name the file, the line and the field.

``parse_yaml`` composes the node tree (which carries line/column marks), rejects duplicate keys
(PyYAML would silently keep the last one), then constructs plain Python data from that same tree.
``locate`` walks the tree along a path such as pydantic's error locations and returns the line of
the nearest node it reaches.

Who calls it: ``spec.loader`` (the fleet spec), ``spec.validation`` (mapping pydantic errors back
to lines) and ``spec.templates`` (CloudFormation templates, with a loader that understands the
short-form intrinsic tags).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stockade.domain.errors import SpecError
from stockade.spec.problems import Problem, format_path

_MERGE_TAG = "tag:yaml.org,2002:merge"

_SYNTAX_HINT = (
    "fix the YAML syntax at that position: check the indentation, and quote values that "
    "contain ': ', ' #' or start with one of { [ * & ! | > ' \" % @ `"
)


class YamlError(SpecError):
    """A YAML file that cannot be parsed (syntax, duplicate key); ``problem`` says where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.render(), hint=problem.hint)
        self.problem = problem


@dataclass(frozen=True)
class YamlDocument:
    """The constructed data of one YAML document and the node tree it was built from."""

    data: object
    root: Node


@dataclass(frozen=True)
class Location:
    """Where ``locate`` ended: a 1-based line, the path it matched, and the node it reached."""

    line: int
    parts: tuple[str | int, ...]
    node: Node


def parse_yaml(
    text: str,
    *,
    name: str,
    loader: type[yaml.SafeLoader] = yaml.SafeLoader,
    hint: str = _SYNTAX_HINT,
) -> YamlDocument | None:
    """Parse one YAML document; ``None`` when it holds no document at all.

    Raises ``YamlError`` (a ``SpecError``) naming ``name``, the line and column for syntax
    errors, and the line and key path for duplicate keys.
    """
    parser = loader(text)
    try:
        root = parser.get_single_node()
        if root is None:
            return None
        _check_duplicate_keys(root, name)
        data = parser.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise YamlError(Problem(name, line, problem, hint=hint, column=column)) from exc
    except yaml.YAMLError as exc:
        # reader errors (e.g. control characters) carry no mark, only a description
        raise YamlError(Problem(name, None, str(exc), hint=hint)) from exc
    finally:
        parser.dispose()
    return YamlDocument(data=data, root=root)


def _check_duplicate_keys(root: Node, name: str) -> None:
    seen_nodes: set[int] = set()
    stack: list[tuple[Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                if key.tag == _MERGE_TAG:
                    stack.append((value, path))
                    continue
                if isinstance(key, ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in first_line:
                        raise YamlError(
                            Problem(
                                name,
                                line,
                                f"duplicate key {key.value!r} (first at line "
                                f"{first_line[key.value]})",
                                hint="keep one of the two entries: YAML would silently use the "
                                "last one",
                                field=format_path((*path, key.value)),
                            )
                        )
                    first_line[key.value] = line
                    stack.append((value, (*path, key.value)))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*path, index)) for index, item in enumerate(node.value))


def locate(root: Node, loc: Sequence[str | int]) -> Location:
    """Follow ``loc`` (mapping keys and sequence indices) as far as the tree allows.

    A mapping entry reports the line of its key; a sequence item the line of the item. Elements
    of ``loc`` that do not exist in the document (a missing field, pydantic's union branch tags)
    end the walk: the result is the nearest node that does exist.
    """
    node = root
    line = root.start_mark.line + 1
    parts: list[str | int] = []
    for elem in loc:
        if isinstance(node, MappingNode):
            entry = _find_key(node, elem)
            if entry is None:
                break
            key, node = entry
            line = key.start_mark.line + 1
        elif (
            isinstance(node, SequenceNode) and isinstance(elem, int) and 0 <= elem < len(node.value)
        ):
            node = node.value[elem]
            line = node.start_mark.line + 1
        else:
            break
        parts.append(elem)
    return Location(line=line, parts=tuple(parts), node=node)


def mapping_keys(node: Node) -> list[str]:
    """The scalar keys of a mapping node, in document order (empty for other nodes)."""
    if not isinstance(node, MappingNode):
        return []
    return [key.value for key, _ in node.value if isinstance(key, ScalarNode)]


def _find_key(node: MappingNode, elem: str | int) -> tuple[Node, Node] | None:
    wanted = str(elem)
    # after construction merged keys come first; the last occurrence is the one that counts
    for key, value in reversed(node.value):
        if isinstance(key, ScalarNode) and key.value == wanted:
            return key, value
    return None
