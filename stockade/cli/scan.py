"""``stockade scan credentials``: long-lived credentials across every tenant account.

Asks the API for a credential scan (``POST /api/v1/scans/credentials``; the server reads every
active or suspended tenant's account through the scan role, then answers) and shows the
findings, most severe first, and the accounts that could not be read. ``--tenant`` (repeatable)
limits the scan to those tenants; ``--output json`` prints the API's document.

Exit codes: 0 when the fleet is clean (every account read, no finding); 1 when there are
findings or an account could not be read (a scan that missed an account is not clean); 2 for
usage errors. So ``stockade scan credentials`` can gate a pipeline as it is.

Who calls it: ``stockade.cli.main`` (registers ``scan_app()`` as the ``scan`` group).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

import typer
from rich.table import Table
from rich.text import Text

from stockade.cli.context import cli_state
from stockade.cli.errors import EXIT_FAILED, handle_errors
from stockade.cli.render import print_json, stdout_console

SEVERITY_STYLES: Final = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}
KIND_LABELS: Final = {
    "access_key": "access key",
    "console_without_mfa": "console without MFA",
    "root_access_key": "root access key",
}


def _dash(value: Any) -> str:
    return "-" if value in (None, "") else str(value)


def _last_used(finding: Mapping[str, Any]) -> str:
    if finding.get("kind") != "access_key":
        return "-"
    at = finding.get("last_used_at")
    if not at:
        return "never"
    service = finding.get("last_used_service")
    return f"{str(at)[:10]} ({service})" if service else str(at)[:10]


def findings_table(document: Mapping[str, Any]) -> Table:
    counts: Mapping[str, Any] = document.get("counts", {})
    by_severity: Mapping[str, int] = counts.get("by_severity", {})
    summary = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITY_STYLES if by_severity.get(s))
    caption = (
        f"{counts.get('findings', 0)} finding(s) in {counts.get('scanned', 0)} of "
        f"{counts.get('accounts', 0)} account(s)"
        + (f": {summary}" if summary else "")
        + f"; {document.get('seconds', 0)} s"
    )
    table = Table(caption=caption, caption_justify="left")
    for column in ("SEVERITY", "TENANT", "ACCOUNT", "FINDING", "PRINCIPAL", "KEY", "AGE", "USED"):
        # a finding hides nothing: on a narrow terminal long values fold onto more lines
        table.add_column(column, overflow="fold")
    for finding in document.get("findings", []):
        severity = str(finding.get("severity", ""))
        age = finding.get("age_days")
        table.add_row(
            Text(severity, style=SEVERITY_STYLES.get(severity, "")),
            str(finding.get("tenant", "")),
            str(finding.get("account_id", "")),
            KIND_LABELS.get(str(finding.get("kind")), str(finding.get("kind"))),
            str(finding.get("principal", "")),
            _dash(finding.get("access_key_id")),
            "-" if age is None else f"{age} d",
            _last_used(finding),
        )
    return table


def errors_table(document: Mapping[str, Any]) -> Table:
    table = Table(title="accounts not scanned", title_justify="left")
    for column in ("TENANT", "ACCOUNT", "ERROR"):
        table.add_column(column, overflow="fold")
    for error in document.get("errors", []):
        again = " (transient: scan again)" if error.get("transient") else ""
        table.add_row(
            str(error.get("tenant", "")),
            str(error.get("account_id", "")),
            f"{error.get('code', '')}: {error.get('message', '')}{again}",
        )
    return table


@handle_errors
def credentials(
    ctx: typer.Context,
    *,
    tenant: Annotated[
        list[str] | None,
        typer.Option("--tenant", metavar="ID", help="only this tenant (repeatable)"),
    ] = None,
) -> None:
    """Find IAM users' access keys (age, last use), console passwords without MFA and root
    access keys in every tenant account. Exit 0 when clean, 1 when anything was found or an
    account could not be scanned."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.scan_credentials(tenants=tenant or None)
    if state.json:
        print_json(document)
    else:
        console = stdout_console()
        if document.get("findings") or not document.get("errors"):
            console.print(findings_table(document))
        if document.get("errors"):
            console.print(errors_table(document))
        if document.get("clean"):
            console.print("[green]clean[/]: no long-lived credentials found")
    if not document.get("clean"):
        raise typer.Exit(EXIT_FAILED)


def scan_app() -> typer.Typer:
    """The ``scan`` command group."""
    app = typer.Typer(help="Scan the fleet's accounts.", no_args_is_help=True)
    app.command("credentials")(credentials)
    return app
