"""The ``stockade`` command: ``build_app`` assembles the Typer app, ``main`` is the console script.

The app is built by a factory (no module-level app holding state): ``build_app(deps)`` takes the
CLI's dependencies (``CliDeps``), which tests replace to run the CLI against an in-process API.
Global options (``--output``, ``--server``) are parsed by the root callback into ``CliState``.

Who calls it: the ``stockade`` console script (``main``), the CLI tests (``build_app``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from stockade.cli.access import access_app
from stockade.cli.audit import audit_app
from stockade.cli.context import (
    DEFAULT_SERVER,
    SERVER_ENV,
    CliDeps,
    CliState,
    OutputFormat,
)
from stockade.cli.guardrails import guardrails_app
from stockade.cli.iam import iam_app
from stockade.cli.local import init, up
from stockade.cli.plan import plan
from stockade.cli.policy import policy_app
from stockade.cli.rollout import apply, rollout_app
from stockade.cli.scan import scan_app
from stockade.cli.tenant import tenant_app
from stockade.cli.tokens import token_app


def _check_server(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        # a usage error (exit 2) raised while parsing, so it is reported the Typer way
        raise typer.BadParameter(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


def build_app(deps: CliDeps | None = None) -> typer.Typer:
    """The ``stockade`` Typer app, using ``deps`` (default: the real dependencies)."""
    resolved = deps if deps is not None else CliDeps()
    app = typer.Typer(
        name="stockade",
        help="Stockade: the control plane for account-per-tenant SaaS on AWS.",
        no_args_is_help=True,
        add_completion=False,
        # never show locals (tokens) in a traceback of an unexpected error
        pretty_exceptions_show_locals=False,
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        output: Annotated[
            OutputFormat, typer.Option("--output", "-o", help="table, or one JSON document")
        ] = OutputFormat.TABLE,
        server: Annotated[
            str,
            typer.Option(
                "--server",
                envvar=SERVER_ENV,
                callback=_check_server,
                help="URL of the Stockade API",
            ),
        ] = DEFAULT_SERVER,
    ) -> None:
        ctx.obj = CliState(output=output, server=server, deps=resolved)

    app.command("init")(init)
    app.command("up")(up)
    app.command("plan")(plan)
    app.command("apply")(apply)
    app.add_typer(tenant_app(), name="tenant")
    app.add_typer(rollout_app(), name="rollout")
    app.add_typer(policy_app(), name="policy")
    app.add_typer(guardrails_app(), name="guardrails")
    app.add_typer(iam_app(), name="iam")
    app.add_typer(token_app(), name="token")
    app.add_typer(audit_app(), name="audit")
    app.add_typer(access_app(), name="access")
    app.add_typer(scan_app(), name="scan")
    return app


def main() -> None:
    """Console-script entry point."""
    build_app()()


if __name__ == "__main__":  # `python -m stockade.cli.main`, as the end-to-end tests run it
    main()
