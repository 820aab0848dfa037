"""How CLI results look: one JSON document for ``--output json``, Rich tables otherwise.

JSON goes to stdout untouched (the API's own document), so scripts can pipe it to ``jq``; tables
colour the lifecycle state. Progress and errors never go to stdout.

Who calls it: the command modules (``stockade.cli.tenant``, ``stockade.cli.local``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

STATE_STYLES: Mapping[str, str] = {
    "requested": "cyan",
    "provisioning": "yellow",
    "active": "green",
    "suspended": "magenta",
    "retiring": "yellow",
    "closed": "dim",
    "failed": "bold red",
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


def _dash(value: Any) -> str:
    return "-" if value in (None, "", [], {}) else str(value)


def _labels(labels: Mapping[str, str] | None) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted((labels or {}).items())) or "-"


def tenant_list_table(document: Mapping[str, Any]) -> Table:
    items: list[Mapping[str, Any]] = list(document.get("items", []))
    count = document.get("count", len(items))
    table = Table(caption=f"{count} tenant{'s' if count != 1 else ''}", caption_justify="left")
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


def tenant_detail_table(tenant: Mapping[str, Any]) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
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
