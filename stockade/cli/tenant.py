"""``stockade tenant ...``: create, list, show and retry tenants through the API.

Each command is a thin call on ``StockadeClient`` plus rendering; ``--wait`` polls the tenant
until onboarding settles (active or failed), showing a spinner on stderr, and exits 1 if the
tenant failed or the wait timed out.

Who calls it: ``stockade.cli.main`` (registers ``tenant_app()`` as the ``tenant`` group).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from stockade.cli.args import split_pair
from stockade.cli.client import StockadeClient
from stockade.cli.context import CliState, cli_state
from stockade.cli.errors import OperationFailedError, handle_errors
from stockade.cli.render import (
    print_json,
    stderr_console,
    stdout_console,
    tenant_detail_table,
    tenant_list_table,
)
from stockade.domain.errors import ValidationError
from stockade.domain.tenant import ONBOARDING_STATES, TenantState

DEFAULT_WAIT_SECONDS = 900.0
#: states (as the API spells them) in which ``--wait`` keeps polling
_ONBOARDING = frozenset(state.value for state in ONBOARDING_STATES)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="the tenant id (a DNS-safe slug)")]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="wait until onboarding settles (active or failed)")
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=1.0, help="seconds to --wait before giving up")
]


def parse_labels(values: list[str]) -> dict[str, str]:
    """``["env=prod", "team=a"]`` -> ``{"env": "prod", "team": "a"}``; ValidationError otherwise."""
    labels: dict[str, str] = {}
    for value in values:
        key, label = split_pair(value, option="--label", example="--label env=prod")
        if key in labels:
            raise ValidationError(f"--label {key!r} is given twice")
        labels[key] = label
    return labels


def _show_tenant(state: CliState, tenant: Mapping[str, Any]) -> None:
    if state.json:
        print_json(tenant)
    else:
        stdout_console().print(tenant_detail_table(tenant))


def _wait(
    state: CliState, client: StockadeClient, tenant: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """Poll until the tenant leaves the onboarding states; OperationFailedError on timeout."""
    tenant_id = str(tenant["id"])
    deps = state.deps
    started = deps.clock()
    with stderr_console().status(f"{tenant_id}: {tenant['state']}") as spinner:
        while tenant["state"] in _ONBOARDING:
            elapsed = deps.clock() - started
            if elapsed >= timeout:
                raise OperationFailedError(
                    f"tenant {tenant_id!r} is still {tenant['state']} after {timeout:g} s",
                    hint="onboarding goes on in the background: "
                    f"`stockade tenant show {tenant_id}`",
                )
            spinner.update(
                f"{tenant_id}: {tenant['state']} (attempt {tenant.get('attempt', 1)}, "
                f"{elapsed:.0f} s)"
            )
            deps.sleep(deps.poll_interval)
            tenant = client.get_tenant(tenant_id)
    return tenant


def _settle(
    state: CliState, client: StockadeClient, tenant: dict[str, Any], timeout: float
) -> None:
    """Wait, show the final tenant, and fail (exit 1) unless it is active."""
    tenant = _wait(state, client, tenant, timeout)
    _show_tenant(state, tenant)
    if tenant["state"] == TenantState.FAILED.value:
        step = tenant.get("failed_step") or "an unknown step"
        reason = tenant.get("failure_reason") or "no reason given"
        raise OperationFailedError(
            f"tenant {tenant['id']!r} failed at {step}: {reason}",
            hint=f"fix the cause, then `stockade tenant retry {tenant['id']} --wait`",
        )
    if tenant["state"] != TenantState.ACTIVE.value:
        raise OperationFailedError(f"tenant {tenant['id']!r} is {tenant['state']}, not active")


@handle_errors
def create(
    ctx: typer.Context,
    tenant_id: IdArg,
    *,
    tier: Annotated[str, typer.Option("--tier", help="a tier of the fleet spec")],
    name: Annotated[str | None, typer.Option("--name", help="display name")] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", metavar="KEY=VALUE", help="a label (repeatable)"),
    ] = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_SECONDS,
) -> None:
    """Create a tenant: record it and start onboarding its AWS account."""
    state = cli_state(ctx)
    labels = parse_labels(label or [])
    with state.client() as client:
        tenant = client.create_tenant(tenant_id, tier=tier, name=name, labels=labels)
        if wait:
            _settle(state, client, tenant, timeout)
        else:
            _show_tenant(state, tenant)


@handle_errors
def list_(
    ctx: typer.Context,
    *,
    state_filter: Annotated[
        TenantState | None, typer.Option("--state", help="only tenants in this state")
    ] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="only tenants of this tier")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=5000)] = 1000,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
) -> None:
    """List tenants, optionally by state and tier."""
    state = cli_state(ctx)
    with state.client() as client:
        document = client.list_tenants(
            state=state_filter.value if state_filter else None,
            tier=tier,
            limit=limit,
            offset=offset,
        )
    if state.json:
        print_json(document)
    else:
        stdout_console().print(tenant_list_table(document))


@handle_errors
def show(ctx: typer.Context, tenant_id: IdArg) -> None:
    """Show one tenant."""
    state = cli_state(ctx)
    with state.client() as client:
        _show_tenant(state, client.get_tenant(tenant_id))


@handle_errors
def retry(
    ctx: typer.Context,
    tenant_id: IdArg,
    *,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_SECONDS,
) -> None:
    """Resume a failed tenant's onboarding where it stopped."""
    state = cli_state(ctx)
    with state.client() as client:
        tenant = client.retry_tenant(tenant_id)
        if wait:
            _settle(state, client, tenant, timeout)
        else:
            _show_tenant(state, tenant)


def tenant_app() -> typer.Typer:
    """The ``tenant`` command group."""
    app = typer.Typer(help="Create, list, show and retry tenants.", no_args_is_help=True)
    app.command("create")(create)
    app.command("list")(list_)
    app.command("show")(show)
    app.command("retry")(retry)
    return app
