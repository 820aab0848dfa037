"""``stockade access``: short-lived credentials in a tenant account, ``~/.aws/config`` profiles,
and break-glass requests.

- ``stockade access TENANT --role R --reason TEXT [--duration 1h] [--format F]`` (the default
  command, also ``access get``) prints credentials as shell ``export`` lines (``env``), the API's
  JSON document (``json``, also with ``--output json``), or exactly what the AWS CLI's
  ``credential_process`` reads (``credential-process``). Nothing but the credentials goes to
  stdout; errors are one line on stderr.
- ``access profiles --reason TEXT [--role R]`` prints a ``~/.aws/config`` block per active
  tenant whose ``credential_process`` runs ``stockade access ... --format credential-process``.
- ``access request TENANT --reason ...``, ``requests [--state S]``, ``approve ID``,
  ``deny ID --reason ...``: break-glass access with a second person's approval.

``--duration`` is checked here (``domain.access.parse_duration``) so a bad value is one line
naming the flag, before any request. Who calls it: ``stockade.cli.main`` (``access_app()``).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from stockade.cli.context import cli_state
from stockade.cli.errors import handle_errors
from stockade.cli.render import print_json, state_text, stderr_console, stdout_console
from stockade.domain.access import (
    AccessLevel,
    RequestState,
    clean_reason,
    format_duration,
    parse_duration,
)

#: the command ``stockade access TENANT ...`` runs
DEFAULT_COMMAND = "get"


class Format(StrEnum):
    ENV = "env"
    JSON = "json"
    CREDENTIAL_PROCESS = "credential-process"


class _DefaultToGet(TyperGroup):
    """``stockade access TENANT ...`` is ``stockade access get TENANT ...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click Context
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


TenantArg = Annotated[str, typer.Argument(metavar="TENANT", help="the tenant id")]
RequestIdArg = Annotated[str, typer.Argument(metavar="ID", help="the request id (ar-...)")]
Reason = Annotated[
    str, typer.Option("--reason", help="why: recorded in the audit trail, tagged on the session")
]
Duration = Annotated[
    str | None,
    typer.Option(
        "--duration",
        help="session length, 15m..1h: 30m, 1h, 900s, or minutes (45); default 1h",
    ),
]


def _seconds(duration: str | None) -> int | None:
    return parse_duration(duration, option="--duration") if duration is not None else None


def _iso_z(value: Any) -> str:
    """An API timestamp as ISO 8601 in UTC with ``Z`` (what ``credential_process`` expects)."""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_process_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly the JSON the AWS CLI and SDKs read from a ``credential_process``."""
    creds = document["credentials"]
    return {
        "Version": 1,
        "AccessKeyId": creds["access_key_id"],
        "SecretAccessKey": creds["secret_access_key"],
        "SessionToken": creds["session_token"],
        "Expiration": _iso_z(creds["expiration"]),
    }


def env_lines(document: Mapping[str, Any]) -> list[str]:
    """A comment naming what the credentials are for, then ``export`` lines for a shell."""
    creds = document["credentials"]
    return [
        f"# stockade access: tenant {document['tenant']} ({document['account_id']}), "
        f"role {document['role']} ({document['role_name']}), "
        f"expires {_iso_z(document['expiration'])}",
        f"export AWS_ACCESS_KEY_ID={shlex.quote(str(creds['access_key_id']))}",
        f"export AWS_SECRET_ACCESS_KEY={shlex.quote(str(creds['secret_access_key']))}",
        f"export AWS_SESSION_TOKEN={shlex.quote(str(creds['session_token']))}",
    ]


@handle_errors
def get(
    ctx: typer.Context,
    tenant: TenantArg,
    *,
    role: Annotated[AccessLevel, typer.Option("--role", help="the access level")],
    reason: Reason,
    duration: Duration = None,
    output_format: Annotated[
        Format | None,
        typer.Option("--format", help="env (default), json, or credential-process"),
    ] = None,
    request: Annotated[
        str | None,
        typer.Option("--request", metavar="ID", help="the approved break-glass request"),
    ] = None,
) -> None:
    """Short-lived credentials in a tenant's account (`stockade access TENANT ...`)."""
    state = cli_state(ctx)
    seconds = _seconds(duration)
    with state.client() as client:
        document = client.issue_access(
            tenant, role=role.value, reason=reason, duration_seconds=seconds, request_id=request
        )
    chosen = output_format or (Format.JSON if state.json else Format.ENV)
    if chosen is Format.JSON:
        print_json(document)
    elif chosen is Format.CREDENTIAL_PROCESS:
        typer.echo(json.dumps(credential_process_document(document)))
    else:
        typer.echo("\n".join(env_lines(document)))


def profile_blocks(
    document: Mapping[str, Any], *, server: str, reason: str, command: str
) -> list[str]:
    """One ``~/.aws/config`` block per profile of the API's document."""
    region = str(document.get("region", ""))
    blocks: list[str] = []
    for item in document.get("items", []):
        process = shlex.join(
            [
                *shlex.split(command),
                "--server",
                server,
                "access",
                str(item["tenant"]),
                "--role",
                str(item["role"]),
                "--reason",
                reason,
                "--format",
                Format.CREDENTIAL_PROCESS.value,
            ]
        )
        blocks.append(
            f"[profile {item['profile']}]\ncredential_process = {process}\nregion = {region}\n"
        )
    return blocks


@handle_errors
def profiles(
    ctx: typer.Context,
    *,
    reason: Annotated[
        str, typer.Option("--reason", help="the reason every profile's sessions will carry")
    ],
    role: Annotated[
        AccessLevel | None,
        typer.Option("--role", help="one level (default: every level you may get)"),
    ] = None,
    command: Annotated[
        str, typer.Option("--command", help="how credential_process runs the stockade CLI")
    ] = "stockade",
) -> None:
    """Print a ~/.aws/config profile per active tenant you may access."""
    state = cli_state(ctx)
    cleaned = clean_reason(reason, option="--reason")
    with state.client() as client:
        document = client.access_profiles(role=role.value if role is not None else None)
    if state.json:
        print_json(document)
        return
    blocks = profile_blocks(document, server=state.server, reason=cleaned, command=command)
    typer.echo("\n".join(blocks), nl=False)
    stderr_console().print(
        f"{len(blocks)} profile(s); the credential_process reads the API token from "
        "$STOCKADE_TOKEN",
        soft_wrap=True,
    )


def request_table(request: Mapping[str, Any]) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    table.add_row("id", str(request.get("id", "")))
    table.add_row("tenant", str(request.get("tenant", "")))
    table.add_row("state", state_text(str(request.get("state", ""))))
    table.add_row("requester", str(request.get("requester", "")))
    table.add_row("reason", str(request.get("reason", "")))
    table.add_row("duration", format_duration(int(request.get("duration_seconds", 0))))
    table.add_row("expires", str(request.get("expires_at", "")))
    if request.get("decided_by"):
        table.add_row("decided by", f"{request['decided_by']} at {request.get('decided_at')}")
    if request.get("decision_reason"):
        table.add_row("why", str(request["decision_reason"]))
    if request.get("used_at"):
        table.add_row("used", str(request["used_at"]))
    return table


def requests_table(document: Mapping[str, Any]) -> Table:
    items: list[Mapping[str, Any]] = list(document.get("items", []))
    table = Table(caption=f"{len(items)} request(s)", caption_justify="left")
    for column in ("ID", "TENANT", "STATE", "REQUESTER", "DECIDED BY", "EXPIRES", "REASON"):
        table.add_column(column, no_wrap=column in ("ID", "STATE"), overflow="fold")
    for item in items:
        table.add_row(
            str(item.get("id", "")),
            str(item.get("tenant", "")),
            state_text(str(item.get("state", ""))),
            str(item.get("requester", "")),
            str(item.get("decided_by") or "-"),
            str(item.get("expires_at", "")),
            str(item.get("reason", "")),
        )
    return table


def _show(ctx: typer.Context, document: Mapping[str, Any]) -> None:
    if cli_state(ctx).json:
        print_json(document)
    else:
        stdout_console().print(request_table(document))


@handle_errors
def request_(
    ctx: typer.Context, tenant: TenantArg, *, reason: Reason, duration: Duration = None
) -> None:
    """Ask for break-glass access; another person with the approver role must approve it."""
    seconds = _seconds(duration)
    with cli_state(ctx).client() as client:
        document = client.request_access(tenant, reason=reason, duration_seconds=seconds)
    _show(ctx, document)
    request_id = document.get("id", "ID")
    stderr_console().print(
        f"an approver runs: stockade access approve {request_id}; then: stockade access "
        f"{tenant} --role breakglass --request {request_id} --reason ...",
        soft_wrap=True,
    )


@handle_errors
def requests(
    ctx: typer.Context,
    state: Annotated[
        RequestState | None, typer.Option("--state", help="only requests in this state")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, max=1000)] = None,
) -> None:
    """List break-glass requests, newest first."""
    cli = cli_state(ctx)
    with cli.client() as client:
        document = client.list_access_requests(
            state=state.value if state is not None else None, limit=limit
        )
    if cli.json:
        print_json(document)
    else:
        stdout_console().print(requests_table(document))


@handle_errors
def approve(ctx: typer.Context, request_id: RequestIdArg) -> None:
    """Approve a pending break-glass request (approvers; never your own)."""
    with cli_state(ctx).client() as client:
        document = client.approve_access_request(request_id)
    _show(ctx, document)


@handle_errors
def deny(
    ctx: typer.Context,
    request_id: RequestIdArg,
    *,
    reason: Annotated[str, typer.Option("--reason", help="why not: shown to the requester")],
) -> None:
    """Deny a pending break-glass request (approvers)."""
    with cli_state(ctx).client() as client:
        document = client.deny_access_request(request_id, reason=reason)
    _show(ctx, document)


def access_app() -> typer.Typer:
    """The ``access`` command group."""
    app = typer.Typer(
        cls=_DefaultToGet,
        help="Short-lived credentials in tenant accounts, and break-glass requests. "
        "`stockade access TENANT --role R --reason TEXT` runs `access get`.",
        no_args_is_help=True,
    )
    app.command(DEFAULT_COMMAND)(get)
    app.command("profiles")(profiles)
    app.command("request")(request_)
    app.command("requests")(requests)
    app.command("approve")(approve)
    app.command("deny")(deny)
    return app
