"""What every CLI command shares: global options, injected dependencies, token and client.

``CliDeps`` holds the seams (how to build the API client, how to run ``stockade up``, how to
sleep and read the clock while waiting, whether stdin and stdout are terminals) so tests can
point the CLI at an in-process app without patching. ``CliState`` is what the root callback
stores in ``ctx.obj`` for the commands.

Who calls it: ``stockade.cli.main`` (builds both) and the command modules (read them).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import typer

from stockade.cli.client import StockadeClient
from stockade.domain.errors import AuthError
from stockade.server.options import UpOptions

DEFAULT_SERVER = "http://127.0.0.1:8080"
SERVER_ENV = "STOCKADE_SERVER"
TOKEN_ENV = "STOCKADE_TOKEN"  # noqa: S105 (the variable's name, not a secret)
#: written by ``stockade up`` in the directory it runs in
TOKEN_FILE = Path(".stockade") / "admin-token"

#: (server URL, token) -> client
ClientFactory = Callable[[str, str | None], StockadeClient]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def default_client(server: str, token: str | None) -> StockadeClient:
    return StockadeClient(server, token=token)


def _stdout_is_tty() -> bool:
    return sys.stdout.isatty()


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


@dataclass(frozen=True)
class CliDeps:
    """The CLI's replaceable dependencies (defaults: the real ones)."""

    client_factory: ClientFactory = default_client
    #: runs ``stockade up``; None: ``stockade.server.up.run_up``, imported when needed
    run_up: Callable[[UpOptions], int] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    #: seconds between polls of ``--wait``
    poll_interval: float = 2.0
    stdout_is_tty: Callable[[], bool] = _stdout_is_tty
    #: whether a question can be asked (``apply`` and ``rollback`` confirm unless ``--yes``)
    stdin_is_tty: Callable[[], bool] = _stdin_is_tty
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)


def resolve_token(environ: Mapping[str, str], cwd: Path) -> str:
    """The API token: ``$STOCKADE_TOKEN``, else ``admin-token`` in ``$STOCKADE_HOME``
    (default ``.stockade`` in ``cwd``), where ``stockade up`` saves it."""
    token = environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    home = environ.get("STOCKADE_HOME", "").strip()
    path = (cwd / home / "admin-token") if home else cwd / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise AuthError(
            f"cannot read the API token from {path}: {exc.strerror}",
            hint=f"set {TOKEN_ENV}, or fix the file's permissions",
        ) from exc
    if not token:
        raise AuthError(
            "no API token",
            hint=f"set {TOKEN_ENV}, or run the command in the directory where `stockade up` "
            f"wrote {TOKEN_FILE}",
        )
    return token


@dataclass(frozen=True)
class CliState:
    """Global options plus dependencies, stored in ``ctx.obj`` by the root callback."""

    output: OutputFormat
    server: str
    deps: CliDeps

    @property
    def json(self) -> bool:
        return self.output is OutputFormat.JSON

    def client(self) -> StockadeClient:
        """A client of the API at ``--server`` with the resolved token (AuthError if none)."""
        token = resolve_token(self.deps.environ, Path.cwd())
        return self.deps.client_factory(self.server, token)


def cli_state(ctx: typer.Context) -> CliState:
    """The ``CliState`` of the running invocation (set by the root callback)."""
    state = ctx.obj
    if not isinstance(state, CliState):  # a command invoked without the root callback
        raise RuntimeError("the stockade CLI's root callback did not run")
    return state
