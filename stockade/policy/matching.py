"""Wildcard matching for the Action and Resource elements, compiled once per statement.

* Actions (``s3:Get*``) match case-insensitively (AWS: action names are not case sensitive).
  ``ActionMatcher`` keeps exact actions in a frozenset, ``service:*`` patterns as service names,
  and everything else in one combined regular expression, all lowercased at compile time.
* Resources match case-sensitively. An ARN pattern is matched the way AWS matches ARNs: each of
  the six colon-separated components separately (``*`` and ``?`` never cross a ``:`` in the
  partition, service, region and account), while the resource component (after the fifth colon)
  may contain colons and slashes that ``*`` spans. A ``*`` ending a pattern with fewer than six
  components (``arn:aws:s3:*``) matches the rest. ``*`` alone matches every resource.
  ``ResourceMatcher`` keeps exact ARNs in a frozenset, wildcard patterns in one combined regex,
  and patterns with policy variables as templates resolved per request.

The same translation serves the ``StringLike`` and ``Arn*`` condition operators.

Who calls it: ``policy.parse`` (compiles), ``policy.evaluate`` and ``policy.conditions`` (match).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from stockade.policy.variables import (
    QMARK,
    STAR,
    Context,
    Template,
    Variable,
    Wildcard,
    has_variables,
    has_wildcards,
    literal_text,
    resolve,
)

#: components of an ARN before the resource part (arn, partition, service, region, account)
_ARN_PREFIX_COMPONENTS = 5
#: resolved patterns with variables remembered per matcher (then forgotten all at once)
_RESOLVED_LIMIT = 1024


def glob_source(template: Template, *, arn: bool) -> str:
    """A regular expression (for ``fullmatch``) equivalent to a variable-free ``template``.

    With ``arn``, wildcards before the fifth colon do not match ``:``.
    """
    parts: list[str] = []
    colons = 0
    last = len(template) - 1
    for i, token in enumerate(template):
        if isinstance(token, str):
            parts.append(re.escape(token))
            colons += token.count(":")
        elif isinstance(token, Wildcard):
            spans = not arn or colons >= _ARN_PREFIX_COMPONENTS or (token is STAR and i == last)
            if token.char == "*":
                parts.append(".*" if spans else "[^:]*")
            else:
                parts.append("." if spans else "[^:]")
        else:  # pragma: no cover - callers resolve variables first
            raise TypeError("unresolved variable in a pattern")
    return "".join(parts)


def combined(sources: Iterable[str], *, ignore_case: bool = False) -> re.Pattern[str]:
    """One compiled regex matching any of ``sources`` (each a full-match expression)."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("|".join(f"(?:{source})" for source in sources), flags)


def split_arn(value: str) -> list[str] | None:
    """The six components of an ARN, or None if ``value`` is not one."""
    parts = value.split(":", _ARN_PREFIX_COMPONENTS)
    if len(parts) != _ARN_PREFIX_COMPONENTS + 1 or parts[0] != "arn":
        return None
    return parts


@dataclass(frozen=True, slots=True)
class ActionMatcher:
    """Which actions an ``Action`` (or, with ``negated``, ``NotAction``) element names."""

    patterns: tuple[str, ...]
    negated: bool
    match_all: bool
    exact: frozenset[str]
    services: frozenset[str]
    regex: re.Pattern[str] | None

    @classmethod
    def compile(cls, patterns: tuple[str, ...], *, negated: bool) -> ActionMatcher:
        exact: set[str] = set()
        services: set[str] = set()
        sources: list[str] = []
        match_all = False
        for pattern in patterns:
            lowered = pattern.lower()
            if lowered in ("*", "*:*"):
                match_all = True
            elif "*" not in lowered and "?" not in lowered:
                exact.add(lowered)
            elif lowered.endswith(":*") and "*" not in lowered[:-1] and "?" not in lowered:
                services.add(lowered[:-2])
            else:
                template = tuple(STAR if c == "*" else QMARK if c == "?" else c for c in lowered)
                sources.append(glob_source(template, arn=False))
        return cls(
            patterns=patterns,
            negated=negated,
            match_all=match_all,
            exact=frozenset(exact),
            services=frozenset(services),
            regex=combined(sources) if sources else None,
        )

    def names(self, action: str) -> bool:
        """Whether the element lists ``action`` (lowercase), ignoring ``negated``."""
        if self.match_all or action in self.exact:
            return True
        if self.services and action.partition(":")[0] in self.services:
            return True
        return self.regex is not None and self.regex.fullmatch(action) is not None

    def matches(self, action: str) -> bool:
        """Whether the statement applies to ``action`` (lowercase)."""
        return self.names(action) != self.negated


@dataclass(frozen=True, slots=True)
class ResourceMatcher:
    """Which resources a ``Resource`` (or, with ``negated``, ``NotResource``) element names."""

    templates: tuple[Template, ...]
    negated: bool
    match_all: bool
    exact: frozenset[str]
    regex: re.Pattern[str] | None
    #: patterns with policy variables, resolved against each request's context
    dynamic: tuple[Template, ...]
    _resolved: dict[Template, re.Pattern[str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def compile(cls, templates: tuple[Template, ...], *, negated: bool) -> ResourceMatcher:
        exact: set[str] = set()
        sources: list[str] = []
        dynamic: list[Template] = []
        match_all = False
        for template in templates:
            if template == (STAR,):
                match_all = True
            elif has_variables(template):
                dynamic.append(template)
            elif not has_wildcards(template):
                exact.add(literal_text(template))
            else:
                sources.append(glob_source(template, arn=True))
        return cls(
            templates=templates,
            negated=negated,
            match_all=match_all,
            exact=frozenset(exact),
            regex=combined(sources) if sources else None,
            dynamic=tuple(dynamic),
        )

    def names(self, resource: str, context: Context) -> bool | None:
        """Whether the element lists ``resource``; None if it does not and a variable in one
        of its patterns could not be resolved (the statement is then treated as invalid)."""
        if self.match_all or resource in self.exact:
            return True
        if self.regex is not None and self.regex.fullmatch(resource) is not None:
            return True
        unresolved = False
        for template in self.dynamic:
            resolved = resolve(template, context)
            if resolved is None:
                unresolved = True
                continue
            regex = self._resolved.get(resolved)
            if regex is None:
                if len(self._resolved) >= _RESOLVED_LIMIT:
                    self._resolved.clear()
                regex = re.compile(glob_source(resolved, arn=True), re.DOTALL)
                self._resolved[resolved] = regex
            if regex.fullmatch(resource) is not None:
                return True
        return None if unresolved else False

    def matches(self, resource: str, context: Context) -> bool:
        """Whether the statement applies to ``resource`` (an unresolved variable: it does not)."""
        named = self.names(resource, context)
        if named is None:
            return False
        return named != self.negated


def template_variables(templates: Iterable[Template]) -> list[Variable]:
    return [token for template in templates for token in template if isinstance(token, Variable)]
