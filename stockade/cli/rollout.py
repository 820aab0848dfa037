"""``stockade apply`` and ``stockade rollout ...``: deploy a release in waves, and steer rollouts.

``apply`` shows the plan (``POST /api/v1/plans``), asks before changing anything (unless
``--yes``; with ``--output json`` or no terminal to ask on, ``--yes`` is required: exit 2),
starts the rollout (``POST /api/v1/rollouts``) and, with ``--wait`` (the default for tables),
follows it with a progress bar per wave (``stockade.cli.progress``). ``rollout list|show|halt|
resume|rollback|watch`` are thin calls on the rollout routes. Whatever follows a rollout exits
0 if it completed and 1 if it halted, failed or was rolled back, after showing the reason and
the first failed tenants. With ``--output json`` a command prints one document: the API's, or
for ``apply --wait`` the apply result whose ``rollout`` is the rollout as it ended.

Who calls it: ``stockade.cli.main`` (registers ``apply`` and the ``rollout`` group).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

import typer

from stockade.cli.client import StockadeClient
from stockade.cli.context import CliState, cli_state
from stockade.cli.errors import OperationFailedError, handle_errors
from stockade.cli.plan import guardrail_lines, scp_changes, summary_table
from stockade.cli.progress import follow_rollout
from stockade.cli.render import (
    print_json,
    rollout_detail_table,
    rollout_list_table,
    rollout_tenants_table,
    short_id,
    stderr_console,
    stdout_console,
    wave_table,
)
from stockade.cli.states import CHANGED_STATUSES, RolloutStateName, TenantStatusName
from stockade.domain.errors import ValidationError

#: failed tenants shown when a followed rollout did not complete
FAILED_SHOWN: Final = 5

IdArg = Annotated[str, typer.Argument(metavar="ID", help="the rollout id (ro-...)")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="follow the rollout until it completes, halts or fails")
]


def _check_can_confirm(state: CliState, *, yes: bool, command: str) -> None:
    """Refuse (exit 2) a command that needs a confirmation nobody can give."""
    if yes:
        return
    if state.json or not state.deps.stdin_is_tty():
        where = "with --output json" if state.json else "without a terminal to ask on"
        raise ValidationError(
            f"`stockade {command}` changes tenant accounts and cannot ask for confirmation {where}",
            hint="pass --yes",
        )


def _confirm(question: str) -> None:
    if not typer.confirm(question, default=False):
        raise OperationFailedError("cancelled: nothing was changed")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _show(state: CliState, rollout: Mapping[str, Any]) -> None:
    if state.json:
        print_json(rollout)
        return
    console = stdout_console()
    console.print(rollout_detail_table(rollout))
    console.print(wave_table(rollout))


def _follow(state: CliState, client: StockadeClient, rollout_id: str) -> dict[str, Any]:
    return follow_rollout(
        client,
        rollout_id,
        console=stderr_console(),
        show=not state.json and state.deps.stdout_is_tty(),
        sleep=state.deps.sleep,
    )


def _failed_tenants(rollout: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [t for t in rollout.get("tenants") or [] if t.get("status") == TenantStatusName.FAILED]


def _finish(
    state: CliState, final: Mapping[str, Any], *, document: Mapping[str, Any] | None = None
) -> None:
    """Show a followed rollout as it ended (``document`` instead in JSON), and fail (exit 1)
    unless it completed."""
    failed = _failed_tenants(final)
    if state.json:
        print_json(document if document is not None else final)
    else:
        _show(state, final)
        if failed:
            shown = failed[:FAILED_SHOWN]
            title = f"failed tenants ({len(shown)} of {len(failed)})"
            stdout_console().print(rollout_tenants_table(shown, title=title))
    rollout_state = RolloutStateName(final["state"])
    if rollout_state is RolloutStateName.COMPLETED:
        return
    rollout_id = final["id"]
    message = f"rollout {rollout_id} {rollout_state.value}"
    if final.get("halt_reason"):
        message += f": {final['halt_reason']}"
    if rollout_state is RolloutStateName.HALTED:
        hint = (
            f"see `stockade rollout show {rollout_id} --failed`, then `stockade rollout resume "
            f"{rollout_id}` or `stockade rollout rollback {rollout_id}`"
        )
    elif rollout_state is RolloutStateName.FAILED:
        hint = f"see `stockade rollout show {rollout_id} --failed`"
    else:
        hint = "see `stockade rollout list`"
    raise OperationFailedError(message, hint=hint)


def _nothing_to_change(state: CliState, result: Mapping[str, Any]) -> None:
    if state.json:
        print_json(result)
        return
    stdout_console().print(
        "nothing to change: every tenant is up to date; release "
        f"{short_id(result['release_id'])} is current (tenants built from now on get it)"
    )


def _report_started(result: Mapping[str, Any], plan: Mapping[str, Any]) -> None:
    console = stdout_console()
    if result["release_id"] != plan["release_id"]:
        console.print(
            f"[yellow]note:[/] the server applied release {short_id(result['release_id'])}, "
            f"not the planned {short_id(plan['release_id'])} (the spec changed); its plan:"
        )
        console.print(summary_table(result))
    applied = scp_changes(result)
    if applied:
        console.print(f"applied {_plural(len(applied), 'SCP change')} to the organization")
    rollout = result.get("rollout")
    if rollout is None:
        console.print("no tenant to change: every tenant is up to date")
        return
    waves = ", ".join(str(w["name"]) for w in rollout.get("waves") or [])
    console.print(
        f"started rollout {rollout['id']}: {_plural(int(rollout.get('size', 0)), 'tenant')} "
        f"in {_plural(len(rollout.get('waves') or []), 'wave')} ({waves})"
    )


@handle_errors
def apply(
    ctx: typer.Context,
    *,
    yes: YesOpt = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="read every account again before planning")
    ] = False,
    wait: Annotated[
        bool | None,
        typer.Option(
            "--wait/--no-wait",
            help="follow the rollout until it settles (default: on, off with --output json)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Apply the spec: show the plan, confirm, and roll it out to the changed tenants in waves."""
    state = cli_state(ctx)
    _check_can_confirm(state, yes=yes, command="apply")
    follow = not state.json if wait is None else wait
    with state.client() as client:
        plan = client.plan(refresh=refresh)
        changed = int(plan["summary"].get("tenants_changed", 0))
        scps = len(scp_changes(plan))
        if not state.json:
            stdout_console().print(summary_table(plan))
            for line in guardrail_lines(plan):
                stdout_console().print(line, soft_wrap=True)
        if changed == 0 and scps == 0:
            # nothing changes in any account, but the release becomes the current one (what
            # tenants built from now on get), so it is applied without asking
            result = client.apply()
            _nothing_to_change(state, result)
            return
        if not yes:
            question = f"Apply release {short_id(plan['release_id'])}"
            if changed:
                question += f" to {_plural(changed, 'tenant')}"
            if scps:
                question += f"{' and' if changed else ':'} {_plural(scps, 'SCP change')}"
            _confirm(question + "?")
        result = client.apply()  # the plan just read what --refresh asked for
        rollout = result.get("rollout")
        if not state.json:
            _report_started(result, plan)
        if rollout is None or not follow:
            if state.json:
                print_json(result)
            elif rollout is not None:
                stdout_console().print(f"follow it with `stockade rollout watch {rollout['id']}`")
            return
        final = _follow(state, client, str(rollout["id"]))
    _finish(state, final, document={**result, "rollout": final})


@handle_errors
def list_(
    ctx: typer.Context,
    *,
    state_filter: Annotated[
        RolloutStateName | None, typer.Option("--state", help="only rollouts in this state")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
) -> None:
    """List rollouts, newest first."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.list_rollouts(
            state=state_filter.value if state_filter else None, limit=limit
        )
    if state.json:
        print_json(document)
    else:
        stdout_console().print(rollout_list_table(document))


@handle_errors
def show(
    ctx: typer.Context,
    rollout_id: IdArg,
    *,
    tenants: Annotated[
        bool, typer.Option("--tenants/--no-tenants", help="list the rollout's tenants")
    ] = True,
    failed: Annotated[bool, typer.Option("--failed", help="list only failed tenants")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="tenants listed")] = 50,
) -> None:
    """Show a rollout: its state, its waves, and its tenants (JSON: the API's document)."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.get_rollout(rollout_id)
    _show(state, document)
    if state.json or not (tenants or failed):
        return
    rows = _failed_tenants(document) if failed else list(document.get("tenants") or [])
    console = stdout_console()
    if not rows:
        console.print("no failed tenants" if failed else "no tenants")
        return
    title = f"{'failed ' if failed else ''}tenants ({min(limit, len(rows))} of {len(rows)})"
    console.print(rollout_tenants_table(rows[:limit], title=title))
    if len(rows) > limit:
        console.print(f"... and {len(rows) - limit} more (--limit, or --output json for all)")


@handle_errors
def halt(
    ctx: typer.Context,
    rollout_id: IdArg,
    *,
    reason: Annotated[
        str | None, typer.Option("--reason", help="why (default: 'halted by <you>')")
    ] = None,
) -> None:
    """Halt a rollout: no new tenant starts; those in flight finish."""
    state = cli_state(ctx)
    with state.client() as client:
        _show(state, client.halt_rollout(rollout_id, reason=reason))


@handle_errors
def resume(ctx: typer.Context, rollout_id: IdArg, *, wait: WaitOpt = False) -> None:
    """Resume a halted rollout where it stopped; failed tenants are tried again."""
    state = cli_state(ctx)
    with state.client() as client:
        rollout = client.resume_rollout(rollout_id)
        if not wait:
            _show(state, rollout)
            return
        final = _follow(state, client, rollout_id)
    _finish(state, final)


@handle_errors
def rollback(
    ctx: typer.Context, rollout_id: IdArg, *, yes: YesOpt = False, wait: WaitOpt = False
) -> None:
    """Roll back a stopped rollout: a new rollout of the previous release to what it changed."""
    state = cli_state(ctx)
    _check_can_confirm(state, yes=yes, command="rollout rollback")
    with state.client() as client:
        original = client.get_rollout(rollout_id)
        if not yes:
            tenants = original.get("tenants") or []
            changed = sum(1 for t in tenants if t.get("status") in CHANGED_STATUSES)
            _confirm(
                f"Roll back rollout {rollout_id}: redeploy release "
                f"{short_id(original.get('previous_release_id'))} to "
                f"{_plural(changed, 'tenant')} it changed?"
            )
        rollout = client.rollback_rollout(rollout_id)
        if not wait:
            _show(state, rollout)
            return
        final = _follow(state, client, str(rollout["id"]))
    _finish(state, final)


@handle_errors
def watch(ctx: typer.Context, rollout_id: IdArg) -> None:
    """Follow a rollout with a progress bar per wave until it completes, halts or fails."""
    state = cli_state(ctx)
    with state.client() as client:
        final = _follow(state, client, rollout_id)
    _finish(state, final)


def rollout_app() -> typer.Typer:
    """The ``rollout`` command group."""
    app = typer.Typer(
        help="List, show, halt, resume, roll back and watch rollouts.", no_args_is_help=True
    )
    app.command("list")(list_)
    app.command("show")(show)
    app.command("halt")(halt)
    app.command("resume")(resume)
    app.command("rollback")(rollback)
    app.command("watch")(watch)
    return app
