"""How CLI results look: one JSON document for ``--output json``, Rich tables otherwise.

JSON goes to stdout untouched (the API's own document), so scripts can pipe it to ``jq``; tables
colour lifecycle states, rollout states and tenant statuses. Progress and errors never go to
stdout.

Who calls it: the command modules (``stockade.cli.tenant``, ``local``, ``rollout``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from stockade.cli.states import DONE_STATUSES, TenantStatusName

STATE_STYLES: Mapping[str, str] = {
    "requested": "cyan",
    "provisioning": "yellow",
    "active": "green",
    "suspended": "magenta",
    "retiring": "yellow",
    "closed": "dim",
    "failed": "bold red",
    # rollouts, and tenants within a rollout
    "pending": "cyan",
    "running": "yellow",
    "halted": "bold yellow",
    "completed": "green",
    "rolled_back": "magenta",
    "succeeded": "green",
    "skipped": "dim",
}


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout."""
    typer.echo(json.dumps(document, indent=2))


def stdout_console() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def state_text(state: str) -> Text:
    return Text(state, style=STATE_STYLES.get(state, ""))


def short_id(value: Any) -> str:
    """A release id as people read it: its first 12 characters ('-' if none)."""
    return str(value)[:12] if value else "-"


def _dash(value: Any) -> str:
    return "-" if value in (None, "", [], {}) else str(value)


def _labels(labels: Mapping[str, str] | None) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted((labels or {}).items())) or "-"


def _list_table(document: Mapping[str, Any], noun: str) -> tuple[list[Mapping[str, Any]], Table]:
    """A list document's items, and a table captioned with their count."""
    items: list[Mapping[str, Any]] = list(document.get("items", []))
    count = document.get("count", len(items))
    caption = f"{count} {noun}{'s' if count != 1 else ''}"
    return items, Table(caption=caption, caption_justify="left")


def tenant_list_table(document: Mapping[str, Any]) -> Table:
    items, table = _list_table(document, "tenant")
    for column in ("ID", "TIER", "STATE", "ACCOUNT", "NAME"):
        table.add_column(column, no_wrap=column in ("ID", "STATE", "ACCOUNT"))
    for tenant in items:
        table.add_row(
            str(tenant.get("id", "")),
            str(tenant.get("tier", "")),
            state_text(str(tenant.get("state", ""))),
            _dash(tenant.get("account_id")),
            _dash(tenant.get("name")),
        )
    return table


def _fields_table() -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    return table


def tenant_detail_table(tenant: Mapping[str, Any]) -> Table:
    table = _fields_table()
    rows: list[tuple[str, str | Text]] = [
        ("id", str(tenant.get("id", ""))),
        ("name", _dash(tenant.get("name"))),
        ("tier", str(tenant.get("tier", ""))),
        ("state", state_text(str(tenant.get("state", "")))),
        ("attempt", _dash(tenant.get("attempt"))),
        ("account", _dash(tenant.get("account_id"))),
        ("e-mail", _dash(tenant.get("account_email"))),
        ("labels", _labels(tenant.get("labels"))),
    ]
    if tenant.get("failure_reason") or tenant.get("failed_step"):
        rows.append(("failed step", _dash(tenant.get("failed_step"))))
        rows.append(("failure", Text(_dash(tenant.get("failure_reason")), style="red")))
    for warning in tenant.get("warnings") or []:
        rows.append(("warning", Text(str(warning), style="yellow")))
    rows.append(("created", _dash(tenant.get("created_at"))))
    rows.append(("updated", _dash(tenant.get("updated_at"))))
    for name, value in rows:
        table.add_row(name, value)
    return table


# --- rollouts ------------------------------------------------------------------------------


def _progress(rollout: Mapping[str, Any]) -> str:
    counts: Mapping[str, int] = rollout.get("counts") or {}
    done = sum(counts.get(status, 0) for status in DONE_STATUSES)
    return f"{done}/{rollout.get('size', 0)}"


def rollout_list_table(document: Mapping[str, Any]) -> Table:
    items, table = _list_table(document, "rollout")
    for column in ("ID", "STATE", "RELEASE", "DONE", "FAILED", "CREATED"):
        table.add_column(column, no_wrap=column != "STATE")
    for rollout in items:
        counts: Mapping[str, int] = rollout.get("counts") or {}
        state = state_text(str(rollout.get("state", "")))
        if rollout.get("rollback_of"):
            state.append(f" (rollback of {rollout['rollback_of']})")
        table.add_row(
            str(rollout.get("id", "")),
            state,
            short_id(rollout.get("release_id")),
            _progress(rollout),
            str(counts.get(TenantStatusName.FAILED, 0)),
            _dash(rollout.get("created_at")),
        )
    return table


def rollout_detail_table(rollout: Mapping[str, Any]) -> Table:
    table = _fields_table()
    rows: list[tuple[str, str | Text]] = [
        ("id", str(rollout.get("id", ""))),
        ("state", state_text(str(rollout.get("state", "")))),
        ("release", short_id(rollout.get("release_id"))),
        ("previous", short_id(rollout.get("previous_release_id"))),
        ("done", _progress(rollout)),
    ]
    if rollout.get("rollback_of"):
        rows.append(("rollback of", str(rollout["rollback_of"])))
    if rollout.get("halt_reason"):
        rows.append(("halt reason", Text(str(rollout["halt_reason"]), style="yellow")))
    rows.append(("created", f"{_dash(rollout.get('created_at'))} by {rollout.get('created_by')}"))
    rows.append(("updated", f"{_dash(rollout.get('updated_at'))} by {rollout.get('updated_by')}"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def wave_table(rollout: Mapping[str, Any]) -> Table:
    table = Table(
        title="waves",
        title_justify="left",
        box=None,
        caption="MAX: tenants at once · TOL: failures tolerated",
        caption_justify="left",
    )
    for column in ("#", "WAVE", "SIZE", "MAX", "TOL", *(s.upper() for s in TenantStatusName)):
        table.add_column(column, justify="left" if column == "WAVE" else "right")
    for wave in rollout.get("waves") or []:
        counts: Mapping[str, int] = wave.get("counts") or {}
        table.add_row(
            str(wave.get("index", "")),
            str(wave.get("name", "")),
            str(wave.get("size", 0)),
            str(wave.get("max_concurrency", "")),
            str(wave.get("failure_tolerance", "")),
            *(Text(str(counts.get(s, 0)), style=STATE_STYLES[s]) for s in TenantStatusName),
        )
    return table


def rollout_tenants_table(tenants: list[Mapping[str, Any]], *, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("TENANT", "WAVE", "STATUS", "ATTEMPTS", "ERROR"):
        table.add_column(column, no_wrap=column != "ERROR")
    for tenant in tenants:
        table.add_row(
            str(tenant.get("tenant_id", "")),
            str(tenant.get("wave", "")),
            state_text(str(tenant.get("status", ""))),
            str(tenant.get("attempts", 0)),
            Text(_dash(tenant.get("error")), style="red" if tenant.get("error") else ""),
        )
    return table
