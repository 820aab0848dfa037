"""``stockade plan``: what the running spec would change in every tenant account, and why.

A thin client of ``POST /api/v1/plans``. Who calls it: ``cli.main`` registers the command;
``cli.rollout`` shows the same ``summary_table`` before ``apply``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from stockade.cli.context import cli_state
from stockade.cli.errors import handle_errors
from stockade.cli.render import print_json, stdout_console

ACTIONS = ("create", "update", "delete", "none")
_STYLE = {"create": "green", "update": "yellow", "delete": "red", "none": "dim"}


def summary_table(document: Mapping[str, Any]) -> Table:
    summary = document["summary"]
    table = Table(title=f"plan for release {str(document['release_id'])[:12]}", box=None)
    for column in ("tenants", "changed", "failed", *ACTIONS):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary.get("tenants", 0)),
        str(summary.get("tenants_changed", 0)),
        str(summary.get("tenants_failed", 0)),
        *(f"[{_STYLE[a]}]{summary.get(a, 0)}[/]" for a in ACTIONS),
    )
    return table


def changes_table(document: Mapping[str, Any], limit: int) -> Table:
    table = Table(box=None)
    for column in ("TENANT", "STACK", "ACTION", "REASON"):
        table.add_column(column)
    for tenant in document["tenants"][:limit]:
        if tenant.get("error"):
            table.add_row(tenant["id"], "-", "[red]error[/]", tenant["error"])
        for action in tenant["actions"]:
            style = _STYLE.get(action["action"], "")
            table.add_row(
                tenant["id"], action["stack"], f"[{style}]{action['action']}[/]", action["reason"]
            )
    return table


@handle_errors
def plan(
    ctx: typer.Context,
    *,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="read every account again first")
    ] = False,
    all_stacks: Annotated[
        bool, typer.Option("--all", help="also list what stays as it is")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="tenants shown in the table")] = 50,
) -> None:
    """Show what the running spec would change in every active or suspended tenant."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.plan(refresh=refresh, include_unchanged=all_stacks)
    if state.json:
        print_json(document)
        return
    console = stdout_console()
    console.print(summary_table(document))
    if document["tenants"]:
        console.print(changes_table(document, limit))
        hidden = len(document["tenants"]) - limit
        if hidden > 0:
            console.print(f"... and {hidden} more tenants (--limit, or --output json for all)")
    for line in guardrail_lines(document):
        console.print(line, soft_wrap=True)
    if document.get("observed_now"):
        console.print(f"read {document['observed_now']} account(s) from AWS for this plan")


def scp_changes(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The SCP actions of a plan (``guardrails.scp_actions``) or of an apply (``scp_actions``)."""
    guardrails = document.get("guardrails") or {}
    return list(document.get("scp_actions") or guardrails.get("scp_actions") or [])


def guardrail_lines(document: Mapping[str, Any]) -> list[str]:
    """The guardrail part of a plan or an apply: tests passed, then one line per SCP change."""
    lines: list[str] = []
    guardrails = document.get("guardrails")
    if guardrails and guardrails.get("tests_passed"):
        lines.append(f"guardrail tests: {guardrails['tests_passed']} passed")
    for change in scp_changes(document):
        target = f" {change['target']}" if change.get("target") else ""
        lines.append(
            f"SCP {escape(str(change['action']))} {escape(str(change['policy']))}"
            f"{escape(target)}  ({escape(str(change['reason']))})"
        )
    return lines
