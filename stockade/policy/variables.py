"""Policy strings as templates: literal text, wildcards (``*``, ``?``) and policy variables.

A policy string such as ``arn:aws:s3:::home/${aws:username}/*`` is parsed once into a tuple of
tokens: literal text (``str``), the two wildcard markers ``STAR`` and ``QMARK``, and ``Variable``
(a context key with an optional default, ``${aws:PrincipalTag/team, 'none'}``). The special
variables ``${*}``, ``${?}`` and ``${$}`` become *literal* ``*``, ``?`` and ``$`` characters
(AWS: "Special characters" in the policy variables page), so they never act as wildcards.

Variables are only recognised in policies whose ``Version`` is ``2012-10-17``; in older policies
``${...}`` is literal text, as AWS documents. At evaluation, ``resolve`` substitutes each variable
with the request context's single value for its key (case-insensitively), or the default; a key
that is missing (or multivalued) with no default leaves the template unresolved (``None``): the
caller then treats the element as not matching ("If AWS cannot resolve a variable, this might
cause the entire statement to be invalid").

Who calls it: ``policy.matching`` (Resource patterns), ``policy.conditions`` (condition values),
``policy.parse``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

#: one value in the request context: a single value, or a tuple for a multivalued key
ContextValue = str | tuple[str, ...]
Context = Mapping[str, ContextValue]


@dataclass(frozen=True, slots=True)
class Wildcard:
    """A wildcard character of a pattern: ``*`` (any run of characters) or ``?`` (one)."""

    char: str


STAR: Final = Wildcard("*")
QMARK: Final = Wildcard("?")


@dataclass(frozen=True, slots=True)
class Variable:
    """``${key}`` or ``${key, 'default'}``; ``key_lower`` is how the context is keyed."""

    key: str
    key_lower: str
    default: str | None


Token = str | Wildcard | Variable
Template = tuple[Token, ...]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL: Final[Mapping[str, str]] = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")


class TemplateError(ValueError):
    """A ``${...}`` that is not a valid policy variable."""


def _literal_tokens(text: str, wildcards: bool) -> list[Token]:
    if not wildcards:
        return [text] if text else []
    tokens: list[Token] = []
    start = 0
    for i, char in enumerate(text):
        if char in "*?":
            if i > start:
                tokens.append(text[start:i])
            tokens.append(STAR if char == "*" else QMARK)
            start = i + 1
    if start < len(text):
        tokens.append(text[start:])
    return tokens


def _variable(body: str) -> Token:
    if body in _SPECIAL:
        return _SPECIAL[body]
    match = _DEFAULT.match(body)
    key, default = (match.group(1), match.group(2)) if match else (body.strip(), None)
    if not key or any(c in key for c in " ,'${"):
        raise TemplateError(f"${{{body}}} is not a policy variable")
    return Variable(key, key.lower(), default)


def _merge(tokens: list[Token]) -> Template:
    merged: list[Token] = []
    for token in tokens:
        if isinstance(token, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + token
        elif token != "":
            merged.append(token)
    return tuple(merged)


def parse_template(text: str, *, variables: bool, wildcards: bool) -> Template:
    """Tokens of ``text``; ``variables``: recognise ``${...}``; ``wildcards``: ``*``/``?``."""
    if not variables or "${" not in text:
        return _merge(_literal_tokens(text, wildcards))
    tokens: list[Token] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        tokens.extend(_literal_tokens(text[position : match.start()], wildcards))
        tokens.append(_variable(match.group(1)))
        position = match.end()
    tokens.extend(_literal_tokens(text[position:], wildcards))
    return _merge(tokens)


def has_variables(template: Template) -> bool:
    return any(isinstance(token, Variable) for token in template)


def has_wildcards(template: Template) -> bool:
    return any(isinstance(token, Wildcard) for token in template)


def variable_value(context: Context, variable: Variable) -> str | None:
    """The single context value a variable stands for, its default, or None."""
    value = context.get(variable.key_lower)
    if isinstance(value, tuple):
        value = value[0] if len(value) == 1 else None
    if value is None:
        return variable.default
    return value


def resolve(template: Template, context: Context) -> Template | None:
    """``template`` with every variable replaced by literal text (adjacent literals are not
    merged); None if a variable cannot be resolved."""
    out: list[Token] = []
    for token in template:
        if isinstance(token, Variable):
            value = variable_value(context, token)
            if value is None:
                return None
            out.append(value)
        else:
            out.append(token)
    return tuple(out)


def literal_text(template: Template) -> str:
    """The template as plain text, wildcards written as their characters (no variables)."""
    return "".join(
        token if isinstance(token, str) else token.char
        for token in template
        if not isinstance(token, Variable)
    )
