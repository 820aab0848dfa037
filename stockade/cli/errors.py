"""How the CLI fails: exit codes, and the one decorator turning exceptions into one stderr line.

Exit codes: 0 ok; 1 failed (the operation failed, a server or cloud error, not found, conflict,
authentication); 2 usage or validation error (``ValidationError`` and ``SpecError``; Typer's own
usage errors already exit 2). Expected errors never print a traceback.

Who calls it: every CLI command (``@handle_errors``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from stockade.domain.errors import ConflictError, StockadeError, ValidationError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_P = ParamSpec("_P")
_R = TypeVar("_R")


class OperationFailedError(StockadeError):
    """What the user asked for ran but did not succeed (a tenant failed, a wait timed out).

    The message carries the server's reason; a code would only suggest a client-side error.
    """

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


def exit_code_for(error: StockadeError) -> int:
    """2 for bad input the user can fix in the command (invalid, or conflicting with what
    exists, like a duplicate id), 1 for everything else."""
    return EXIT_USAGE if isinstance(error, ValidationError | ConflictError) else EXIT_FAILED


def report(message: str) -> None:
    """Print one line on stderr (never wrapped, never coloured: scripts parse it)."""
    typer.echo(f"error: {message}", err=True)


def handle_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``command``; map ``StockadeError`` to one stderr line and its exit code."""

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except StockadeError as exc:
            report(exc.one_line())
            raise typer.Exit(exit_code_for(exc)) from None
        except KeyboardInterrupt:
            report("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return run
