"""``stockade guardrails test``: run the spec's guardrail tests locally (no server needed).

Loads the spec (``--spec``, default ``./stockade.yaml``) with its SCP and policy files, evaluates
every guardrail test against the SCP chain the spec gives a tenant account
(``policy.guardrails``), and prints one line per test (``ok`` or ``FAIL`` with what was expected,
what the guardrails said, and the statements that decided), or with ``--output json`` one
document ``{"passed", "failed", "tests": [...]}``. Exit 0 when every test passes, 1 when one
fails, 2 when the spec itself is invalid.

Who calls it: ``stockade.cli.main`` registers ``guardrails_app()`` as the ``guardrails`` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from stockade.cli.context import OutputFormat, cli_state
from stockade.cli.errors import EXIT_FAILED, handle_errors
from stockade.cli.render import print_json, stdout_console
from stockade.policy.guardrails import GuardrailResult, run_guardrail_tests
from stockade.spec.loader import load_spec

__all__ = ["guardrails_app"]


def _as_json(result: GuardrailResult) -> dict[str, object]:
    return {
        "name": result.name,
        "passed": result.passed,
        "expect": result.expect,
        "decision": result.decision.kind.value,
        "principal": result.principal,
        "action": result.action,
        "resource": result.resource,
        "explanation": [e.to_json() for e in result.decision.explanation],
        "message": None if result.passed else result.explain(),
    }


def guardrails_app() -> typer.Typer:
    app = typer.Typer(help="Guardrails: the spec's SCPs and the tests they must pass.")

    @app.command("test")
    @handle_errors
    def test(
        ctx: typer.Context,
        spec: Annotated[
            Path, typer.Option("--spec", dir_okay=False, help="the fleet spec file")
        ] = Path("stockade.yaml"),
    ) -> None:
        """Run every guardrail test of the spec against its SCPs; explain each failure."""
        loaded = load_spec(spec)
        results = run_guardrail_tests(
            loaded.spec.guardrails,
            loaded.policies,
            tenant_ou=loaded.spec.organization.tenant_ou,
        )
        failed = [r for r in results if not r.passed]
        if cli_state(ctx).output is OutputFormat.JSON:
            print_json(
                {
                    "passed": len(results) - len(failed),
                    "failed": len(failed),
                    "tests": [_as_json(r) for r in results],
                }
            )
        else:
            out = stdout_console()
            for result in results:
                if result.passed:
                    out.print(f"ok    {escape(result.name)}", soft_wrap=True)
                else:
                    out.print(f"FAIL  {escape(result.explain())}", soft_wrap=True)
            out.print(
                f"{len(results) - len(failed)} passed, {len(failed)} failed"
                + ("" if results else " (the spec has no guardrails.tests)")
            )
        if failed:
            raise typer.Exit(EXIT_FAILED)

    return app
