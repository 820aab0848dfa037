"""Condition values: parsing numbers and dates; the compiled value sets of each operator family.

``parse_number`` accepts integers and decimals (``NumericLessThan``...). ``parse_date`` accepts
what AWS documents for the date operators: ISO 8601 date-times (``2024-05-01T12:00:00Z``, with an
offset, or a bare date meaning midnight UTC; a value without an offset is UTC) and epoch seconds
(``aws:EpochTime``). Both return None for anything else, so a context value of the wrong type does
not match, and a policy value of the wrong type is a parse error.

A ``ValueSet`` holds one clause's compiled policy values; ``matches`` tests one context value
against all of them (OR). The builders (``exact_values``, ``pattern_values``...) raise
``ValueError`` for a policy value of the wrong type.

Who calls it: ``policy.conditions`` (its operator table names these builders).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from stockade.policy.matching import combined, glob_source
from stockade.policy.variables import Template, has_wildcards, literal_text

_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def parse_number(text: str) -> float | None:
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_date(text: str) -> float | None:
    """Seconds since the epoch (UTC) for an ISO 8601 date-time or an epoch number."""
    number = parse_number(text)
    if number is not None:
        return number
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class ValueSet(Protocol):
    """The compiled policy values of one clause."""

    def matches(self, value: str) -> bool:
        """Whether one context value matches any of the policy values."""


@dataclass(frozen=True, slots=True)
class _Exact:
    values: frozenset[str]

    def matches(self, value: str) -> bool:
        return value in self.values


@dataclass(frozen=True, slots=True)
class _IgnoreCase:
    values: frozenset[str]

    def matches(self, value: str) -> bool:
        return value.casefold() in self.values


@dataclass(frozen=True, slots=True)
class _Pattern:
    exact: frozenset[str]
    regex: re.Pattern[str] | None

    def matches(self, value: str) -> bool:
        if value in self.exact:
            return True
        regex = self.regex
        return regex is not None and regex.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class _Ordered:
    values: tuple[float, ...]
    compare: Callable[[float, float], bool]
    parse: Callable[[str], float | None]

    def matches(self, value: str) -> bool:
        parsed = self.parse(value)
        if parsed is None:
            return False
        compare = self.compare
        return any(compare(parsed, v) for v in self.values)


@dataclass(frozen=True, slots=True)
class _Bytes:
    values: frozenset[bytes]

    def matches(self, value: str) -> bool:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            decoded = value.encode()
        return decoded in self.values


@dataclass(frozen=True, slots=True)
class _Networks:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def matches(self, value: str) -> bool:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return any(address.version == net.version and address in net for net in self.networks)


def texts(templates: tuple[Template, ...]) -> list[str]:
    return [literal_text(t) for t in templates]


def exact_values(templates: tuple[Template, ...]) -> ValueSet:
    return _Exact(frozenset(texts(templates)))


def ignore_case_values(templates: tuple[Template, ...]) -> ValueSet:
    return _IgnoreCase(frozenset(text.casefold() for text in texts(templates)))


def pattern_values(arn: bool) -> Callable[[tuple[Template, ...]], ValueSet]:
    def build(templates: tuple[Template, ...]) -> ValueSet:
        exact = frozenset(literal_text(t) for t in templates if not has_wildcards(t))
        sources = [glob_source(t, arn=arn) for t in templates if has_wildcards(t)]
        return _Pattern(exact, combined(sources) if sources else None)

    return build


def ordered_values(
    compare: Callable[[float, float], bool], parse: Callable[[str], float | None], what: str
) -> Callable[[tuple[Template, ...]], ValueSet]:
    def build(templates: tuple[Template, ...]) -> ValueSet:
        values: list[float] = []
        for text in texts(templates):
            parsed = parse(text)
            if parsed is None:
                raise ValueError(f"{text!r} is not {what}")
            values.append(parsed)
        return _Ordered(tuple(values), compare, parse)

    return build


def bool_values(templates: tuple[Template, ...]) -> ValueSet:
    values = frozenset(text.lower() for text in texts(templates))
    bad = values - {"true", "false"}
    if bad:
        raise ValueError(f"{sorted(bad)[0]!r} is not true or false")
    return _IgnoreCase(values)


def binary_values(templates: tuple[Template, ...]) -> ValueSet:
    values: set[bytes] = set()
    for text in texts(templates):
        try:
            values.add(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise ValueError(f"{text!r} is not base64") from None
    return _Bytes(frozenset(values))


def network_values(templates: tuple[Template, ...]) -> ValueSet:
    networks = []
    for text in texts(templates):
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or CIDR range") from None
    return _Networks(tuple(networks))
