"""``stockade policy simulate|lint``: the local, pure policy commands (no server needed).

``simulate --input FILE`` (``-`` for stdin) evaluates one JSON request per line and prints one
JSON line per request (see ``stockade.policy.simulate`` for both shapes); it always prints JSON
lines, whatever ``--output`` says. Exit 0 when every line was valid; when some were not, their
output lines carry an ``error``, the other lines are still evaluated, one summary line goes to
stderr, and the exit code is 2 (bad input, as for every validation error).

``lint FILE...`` prints one unwrapped line per finding (severity, statement index and Sid,
field, message), or with ``--output json`` one document ``{"files": [{"file",
"policy_type", "errors", "warnings", "findings": [...]}], "errors", "warnings"}``. Exit 1
when any file has an error (including a policy that does not parse), 0 when there are only
warnings or nothing; an unreadable file is a usage error (exit 2).

Who calls it: ``stockade.cli.main`` registers ``policy_app()`` as the ``policy`` group.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from stockade.cli.context import cli_state
from stockade.cli.errors import EXIT_FAILED, EXIT_USAGE, handle_errors, report
from stockade.cli.policy_explain import explain
from stockade.cli.render import print_json
from stockade.domain.errors import ValidationError
from stockade.domain.quotas import OrganizationLimits
from stockade.policy.lint import LintReport, lint_policy
from stockade.policy.model import PolicyType
from stockade.policy.parse import PolicyCache
from stockade.policy.simulate import simulate_lines

_DEFAULTS = OrganizationLimits()


class LintType(StrEnum):
    AUTO = "auto"
    IDENTITY = "identity"
    RESOURCE = "resource"
    SCP = "scp"
    RCP = "rcp"
    BOUNDARY = "permissions-boundary"
    SESSION = "session"


_LINT_TYPES = {
    LintType.IDENTITY: PolicyType.IDENTITY,
    LintType.RESOURCE: PolicyType.RESOURCE,
    LintType.SCP: PolicyType.SCP,
    LintType.RCP: PolicyType.RCP,
    LintType.BOUNDARY: PolicyType.PERMISSIONS_BOUNDARY,
    LintType.SESSION: PolicyType.SESSION,
}

MaxCharsOpt = Annotated[
    int,
    typer.Option("--scp-max-chars", min=1, help="SCP/RCP size limit (5,120; 10,240 if raised)"),
]
MaxPerTargetOpt = Annotated[
    int,
    typer.Option("--scp-max-per-target", min=1, help="SCPs/RCPs per root, OU or account"),
]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the path"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path} is not UTF-8 text") from exc


def _open_input(name: str) -> TextIO:
    if name == "-":
        return sys.stdin
    try:
        return Path(name).open(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {name}: {exc.strerror or exc}") from exc


@handle_errors
def simulate(
    input_file: Annotated[
        str, typer.Option("--input", "-i", metavar="FILE", help="JSON lines; - for stdin")
    ],
    scp_max_chars: MaxCharsOpt = _DEFAULTS.scp_max_chars,
    scp_max_per_target: MaxPerTargetOpt = _DEFAULTS.scp_max_per_target,
) -> None:
    """Evaluate one JSON request per line; print one JSON decision per line."""
    limits = OrganizationLimits(scp_max_chars=scp_max_chars, scp_max_per_target=scp_max_per_target)
    stream = _open_input(input_file)
    total = failed = 0
    try:
        for result in simulate_lines(stream, PolicyCache(), limits=limits):
            total += 1
            failed += not result.ok
            typer.echo(result.line)
    finally:
        if stream is not sys.stdin:
            stream.close()
    if failed:
        report(f"{failed} of {total} lines had errors (see their output lines)")
        raise typer.Exit(EXIT_USAGE)


def _finding_rows(result: LintReport) -> list[tuple[str, str, str, str]]:
    rows = []
    for finding in result.findings:
        where = "-" if finding.statement is None else str(finding.statement)
        if finding.sid:
            where += f" ({finding.sid})"
        rows.append((finding.severity.value, where, finding.field or "-", finding.message))
    return rows


def _print_findings(name: str, result: LintReport) -> None:
    """One unwrapped line per finding, columns aligned (greppable, never wrapped)."""
    if not result.findings:
        typer.echo(f"{name}: no findings ({result.policy_type.value} policy)")
        return
    typer.echo(f"{name} ({result.policy_type.value} policy)")
    rows = [("SEVERITY", "STATEMENT", "FIELD", "MESSAGE"), *_finding_rows(result)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        typer.echo(f"  {cells[0]}  {cells[1]}  {cells[2]}  {row[3]}")


@handle_errors
def lint(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="policy JSON files")],
    policy_type: Annotated[
        LintType, typer.Option("--type", "-t", help="the kind of policy (auto: by Principal)")
    ] = LintType.AUTO,
    scp_max_chars: MaxCharsOpt = _DEFAULTS.scp_max_chars,
) -> None:
    """Report grammar errors, statements that never match, and risky patterns.

    Exit 1 when there are errors, 0 when there are only warnings.
    """
    state = cli_state(ctx)
    limits = OrganizationLimits(scp_max_chars=scp_max_chars)
    chosen = _LINT_TYPES.get(policy_type)
    results = [
        (path, lint_policy(_read_text(path), policy_type=chosen, limits=limits)) for path in files
    ]
    errors = sum(result.errors for _, result in results)
    warnings = sum(result.warnings for _, result in results)
    if state.json:
        print_json(
            {
                "files": [
                    {
                        "file": str(path),
                        "policy_type": result.policy_type.value,
                        "errors": result.errors,
                        "warnings": result.warnings,
                        "findings": [f.to_json() for f in result.findings],
                    }
                    for path, result in results
                ],
                "errors": errors,
                "warnings": warnings,
            }
        )
    else:
        for path, result in results:
            _print_findings(str(path), result)
        typer.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors:
        raise typer.Exit(EXIT_FAILED)


def policy_app() -> typer.Typer:
    """The ``policy`` command group."""
    app = typer.Typer(
        help="Simulate and lint policies locally; explain a call in a tenant (server).",
        no_args_is_help=True,
    )
    app.command("simulate")(simulate)
    app.command("lint")(lint)
    app.command("explain")(explain)
    return app
