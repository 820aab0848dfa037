"""One located problem in a spec or template file, and how several become one ``SpecError``.

Every check in ``stockade.spec`` reports a ``Problem`` (where, what, what to do); the loader
raises them together with ``raise_problems`` so a user fixing a spec sees every template problem
of one pass at once, in a single line, with the first problem's hint.

Who calls it: ``spec.yamlpos``, ``spec.validation``, ``spec.templates`` and ``spec.loader``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from stockade.domain.errors import SpecError

#: how many problems one error message spells out before it only counts the rest
_SHOWN = 5
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Problem:
    """``file:line[:column]: field: message``, plus a hint saying what the user can do."""

    file: str
    line: int | None
    message: str
    hint: str = ""
    field: str = ""
    column: int | None = None

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


def format_path(parts: Sequence[str | int]) -> str:
    """``("tiers", "pro", "services", 1)`` → ``tiers.pro.services[1]``; odd keys get quoted."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def to_error(problems: Sequence[Problem]) -> SpecError:
    """One ``SpecError`` for ``problems`` (at least one): the first in full, then the others."""
    if not problems:
        raise ValueError("to_error needs at least one problem")
    first, rest = problems[0], problems[1:]
    message = first.render()
    if rest:
        shown = [p.render() for p in rest[: _SHOWN - 1]]
        hidden = len(rest) - len(shown)
        message += "; also " + "; ".join(shown)
        if hidden:
            message += f"; and {hidden} more"
    return SpecError(message, hint=first.hint)


def raise_problems(problems: Sequence[Problem]) -> NoReturn:
    """Raise ``to_error(problems)``."""
    raise to_error(problems)
