"""``stockade token create|list|revoke``: manage the API's bearer tokens (admins only).

``create`` prints the new token once, on a line of its own (``--output json``: the API's
document, whose ``token`` field holds it), and warns on stderr that it will not be shown again;
nothing else ever prints a token. ``--tenant`` (repeatable) limits the token to those tenants,
for support staff.

Who calls it: ``stockade.cli.main`` (registers ``token_app()`` as the ``token`` group).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from stockade.cli.context import cli_state
from stockade.cli.errors import handle_errors
from stockade.cli.render import print_json, stderr_console, stdout_console

ONCE_WARNING = "this is the only time the token is shown: store it now (Stockade keeps its hash)"


class RoleName(StrEnum):
    """The roles as the API spells them (a test keeps them equal to ``api.auth.ROLES``)."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    APPROVER = "approver"


IdArg = Annotated[str, typer.Argument(metavar="ID", help="the token id (tok_...)")]


def _tenants(token: Mapping[str, Any]) -> str:
    tenants = token.get("tenants")
    return "all" if tenants is None else ", ".join(str(t) for t in tenants)


def _state(token: Mapping[str, Any]) -> Text:
    active = bool(token.get("active"))
    return Text("active" if active else "revoked", style="green" if active else "dim")


def _dash(value: Any) -> str:
    return "-" if value in (None, "") else str(value)


def token_detail_table(token: Mapping[str, Any]) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    rows: list[tuple[str, str | Text]] = [
        ("id", str(token.get("id", ""))),
        ("name", str(token.get("name", ""))),
        ("role", str(token.get("role", ""))),
        ("tenants", _tenants(token)),
        ("state", _state(token)),
        ("created", _dash(token.get("created_at"))),
    ]
    if token.get("revoked_at"):
        rows.append(("revoked", str(token["revoked_at"])))
    for name, value in rows:
        table.add_row(name, value)
    return table


def token_list_table(document: Mapping[str, Any]) -> Table:
    items: list[Mapping[str, Any]] = list(document.get("items", []))
    count = document.get("count", len(items))
    table = Table(caption=f"{count} token{'s' if count != 1 else ''}", caption_justify="left")
    for column in ("ID", "NAME", "ROLE", "TENANTS", "STATE", "CREATED", "LAST USED"):
        table.add_column(column, no_wrap=column in ("ID", "ROLE", "STATE"), overflow="fold")
    for token in items:
        table.add_row(
            str(token.get("id", "")),
            str(token.get("name", "")),
            str(token.get("role", "")),
            _tenants(token),
            _state(token),
            _dash(token.get("created_at")),
            _dash(token.get("last_used_at")),
        )
    return table


@handle_errors
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="who or what holds the token")],
    *,
    role: Annotated[RoleName, typer.Option("--role", help="what the token may do")],
    tenant: Annotated[
        list[str] | None,
        typer.Option("--tenant", metavar="ID", help="limit the token to this tenant (repeatable)"),
    ] = None,
) -> None:
    """Issue an API token; it is printed this once."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.create_token(name, role=role.value, tenants=tenant or None)
    if state.json:
        print_json(document)
    else:
        stdout_console().print(token_detail_table(document))
        typer.echo(f"token: {document.get('token', '')}")
    stderr_console().print(f"[yellow]warning:[/] {ONCE_WARNING}", soft_wrap=True)


@handle_errors
def list_(ctx: typer.Context) -> None:
    """List every token, revoked ones included (never the tokens themselves)."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.list_tokens()
    if state.json:
        print_json(document)
    else:
        stdout_console().print(token_list_table(document))


@handle_errors
def revoke(ctx: typer.Context, token_id: IdArg) -> None:
    """Revoke a token for good: it stops working at once."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.revoke_token(token_id)
    if state.json:
        print_json(document)
    else:
        stdout_console().print(token_detail_table(document))


def token_app() -> typer.Typer:
    """The ``token`` command group."""
    app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)
    app.command("create")(create)
    app.command("list")(list_)
    app.command("revoke")(revoke)
    return app
