"""The CLI's local commands: ``stockade init`` (scaffold a fleet spec) and ``stockade up``.

Both call into other packages lazily (``stockade.scaffold``, ``stockade.server.up``) so that
``stockade tenant ...`` starts fast and never loads the server, the engine or the sandbox.

Who calls it: ``stockade.cli.main`` (registers ``init`` and ``up``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stockade.cli.context import cli_state
from stockade.cli.errors import handle_errors
from stockade.cli.render import print_json, stdout_console
from stockade.domain.errors import ValidationError
from stockade.server.options import UpOptions


class Latency(StrEnum):
    OFF = "off"
    FAST = "fast"
    AWS_LIKE = "aws-like"


def _run_up_from_server() -> Callable[[UpOptions], int]:
    """``stockade.server.up.run_up``, imported on first use (it pulls in the whole server)."""
    from stockade.server.up import run_up

    return run_up


@handle_errors
def init(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="where to write the spec", file_okay=False)
    ] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
) -> None:
    """Scaffold a fleet spec (stockade.yaml) with example templates and policies."""
    from stockade.scaffold import write_scaffold

    state = cli_state(ctx)
    written = write_scaffold(directory, force=force)
    if state.json:
        print_json({"directory": str(directory), "files": [str(path) for path in written]})
        return
    console = stdout_console()
    console.print(f"Wrote {len(written)} files in {directory}:")
    for path in written:
        console.print(f"  {path}", markup=False)
    where = "" if directory == Path(".") else f"cd {directory} && "
    console.print(f"Next: {where}stockade up --sandbox", markup=False)


@handle_errors
def up(
    ctx: typer.Context,
    *,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox/--aws", help="run against the embedded local AWS (default) or real AWS"
        ),
    ] = True,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", exists=True, dir_okay=False, help="the fleet spec file"),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    demo: Annotated[int, typer.Option("--demo", min=0, help="onboard N demo tenants")] = 0,
    time_scale: Annotated[
        float | None,
        typer.Option("--time-scale", help="sandbox only: speed-up of simulated AWS time"),
    ] = None,
    latency: Annotated[
        Latency | None, typer.Option("--latency", help="sandbox only: simulated AWS latency")
    ] = None,
    exit_when_settled: Annotated[
        bool,
        typer.Option("--exit-when-settled", help="exit once the demo fleet has settled"),
    ] = False,
) -> None:
    """Start Stockade: the API, the engine and (with --sandbox) the embedded local AWS."""
    state = cli_state(ctx)
    if not sandbox and (time_scale is not None or latency is not None):
        raise ValidationError(
            "--time-scale and --latency only apply to --sandbox", hint="drop them with --aws"
        )
    if time_scale is not None and time_scale <= 0:
        raise ValidationError(f"--time-scale must be positive, not {time_scale:g}")
    options = UpOptions(
        mode="sandbox" if sandbox else "aws",
        spec_path=spec,
        host=host,
        port=port,
        demo=demo,
        time_scale=time_scale,
        latency=latency.value if latency is not None else None,
        progress=not state.json and state.deps.stdout_is_tty(),
        exit_when_settled=exit_when_settled,
    )
    run_up = state.deps.run_up or _run_up_from_server()
    code = run_up(options)
    if code:
        raise typer.Exit(code)
