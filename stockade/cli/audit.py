"""``stockade audit list|verify``: read the audit trail and check its hash chain.

``list`` filters by exact actor, action and subject, and by time (``--since`` takes an ISO 8601
date or time, or an age like ``90m``, ``24h``, ``7d``). ``verify`` walks the whole chain on the
server: it exits 0 when the trail is intact, and 1 when it is broken, after listing every
problem (edited, missing or reordered events) and naming the first broken link.

Who calls it: ``stockade.cli.main`` (registers ``audit_app()`` as the ``audit`` group).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

import typer
from rich.table import Table
from rich.text import Text

from stockade.cli.context import cli_state
from stockade.cli.errors import OperationFailedError, handle_errors
from stockade.cli.render import print_json, stdout_console
from stockade.domain.errors import ValidationError

_AGE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PROBLEM_STYLES: Final = {"edited": "bold red", "missing": "red", "reordered": "yellow"}


def parse_since(value: str, *, now: datetime | None = None) -> str:
    """``--since`` as the ISO 8601 time the API takes: an age (``24h``) counts back from
    ``now``; a date or time is passed on (without a time zone: UTC). ValidationError else."""
    text = value.strip()
    age = _AGE.match(text)
    if age:
        delta = timedelta(**{_UNITS[age.group(2)]: int(age.group(1))})
        return ((now or datetime.now(UTC)) - delta).isoformat()
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationError(
            f"--since {value!r} is neither an ISO 8601 date or time nor an age",
            hint="e.g. --since 2025-01-31, --since 2025-01-31T12:00:00Z, --since 24h",
        ) from None


def audit_list_table(document: Mapping[str, Any]) -> Table:
    items: list[Mapping[str, Any]] = list(document.get("items", []))
    count = document.get("count", len(items))
    table = Table(caption=f"{count} event{'s' if count != 1 else ''}", caption_justify="left")
    for column in ("SEQ", "AT", "ACTOR", "ACTION", "SUBJECT", "DETAILS"):
        # an audit listing hides nothing: long values fold onto more lines
        table.add_column(column, no_wrap=column in ("SEQ", "AT"), overflow="fold")
    for event in items:
        details = event.get("details") or {}
        table.add_row(
            str(event.get("seq", "")),
            str(event.get("at", "")),
            str(event.get("actor", "")),
            str(event.get("action", "")),
            str(event.get("subject", "")),
            json.dumps(details, sort_keys=True) if details else "-",
        )
    return table


def problems_table(document: Mapping[str, Any]) -> Table:
    table = Table(title="audit trail problems", title_justify="left")
    for column in ("SEQ", "KIND", "PROBLEM"):
        table.add_column(column, no_wrap=column != "PROBLEM")
    for problem in document.get("problems") or []:
        kind = str(problem.get("kind", ""))
        table.add_row(
            str(problem.get("seq", "")),
            Text(kind, style=_PROBLEM_STYLES.get(kind, "")),
            str(problem.get("message", "")),
        )
    return table


@handle_errors
def list_(
    ctx: typer.Context,
    *,
    actor: Annotated[str | None, typer.Option("--actor", help="only this actor")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="only this action, e.g. token.create")
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="only this subject, e.g. a tenant id")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="WHEN", help="an ISO 8601 date or time, or an age: 24h"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
) -> None:
    """List audit events, newest first."""
    state = cli_state(ctx)
    since_iso = parse_since(since) if since is not None else None
    with state.client() as client:
        document = client.audit_events(
            actor=actor, action=action, subject=subject, since=since_iso, limit=limit
        )
    if state.json:
        print_json(document)
    else:
        stdout_console().print(audit_list_table(document))


@handle_errors
def verify(ctx: typer.Context) -> None:
    """Verify the audit trail's hash chain: exit 0 if intact, 1 if broken."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.verify_audit()
    events = document.get("events", 0)
    if state.json:
        print_json(document)
    elif document.get("ok"):
        stdout_console().print(f"[green]audit trail intact[/]: {events} events verified")
    else:
        stdout_console().print(problems_table(document))
    if not document.get("ok"):
        problems = document.get("problems") or []
        raise OperationFailedError(
            f"the audit trail is broken: {len(problems)} problem(s) in {events} events; "
            f"first broken link at seq {document.get('first_broken_seq')}",
            hint="events from that link on cannot be trusted: find out who wrote to the "
            "database, and restore it from a backup",
        )


def audit_app() -> typer.Typer:
    """The ``audit`` command group."""
    app = typer.Typer(help="List the audit trail and verify its hash chain.", no_args_is_help=True)
    app.command("list")(list_)
    app.command("verify")(verify)
    return app
