"""``stockade policy explain``: would this call be allowed in tenant X? Asked of the server.

The server reads the tenant's real SCP chain from the organization (root, each OU, the account)
and evaluates the request with Stockade's evaluator (``POST /api/v1/policy/explain``). The
principal is a tenant administrator unless ``--principal`` and ``--identity-policy`` say
otherwise; ``{account}`` in an ARN is the tenant's account. ``--context KEY=VALUE`` may repeat
(a key given twice is a multivalued key). Prints the decision, the deciding statements and the
chain, or with ``--output json`` the API's document. Exit 0 whatever the decision (it is an
answer, not a failure); 1 for an unknown tenant; 2 for bad input.

Who calls it: ``stockade.cli.policy`` registers ``explain`` in the ``policy`` group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from stockade.cli.args import split_pair
from stockade.cli.context import cli_state
from stockade.cli.errors import handle_errors
from stockade.cli.render import print_json, stdout_console
from stockade.domain.errors import ValidationError

__all__ = ["explain", "parse_context"]

_DECISION_STYLE = {"allow": "green", "explicit_deny": "red", "implicit_deny": "yellow"}


def parse_context(values: list[str]) -> dict[str, str | list[str]]:
    """``["aws:RequestedRegion=eu-west-1", "k=a", "k=b"]`` -> ``{..., "k": ["a", "b"]}``."""
    context: dict[str, str | list[str]] = {}
    for value in values:
        key, item = split_pair(
            value, option="--context", example="--context aws:RequestedRegion=eu-west-1"
        )
        if key in context:
            previous = context[key]
            context[key] = [*previous, item] if isinstance(previous, list) else [previous, item]
        else:
            context[key] = item
    return context


def _read_policy(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(
            f"--identity-policy {path}: cannot read: {exc.strerror}", hint="check the path"
        ) from None
    except ValueError as exc:
        raise ValidationError(
            f"--identity-policy {path}: not valid JSON: {exc}",
            hint="`stockade policy lint FILE` shows what is wrong",
        ) from None


def _render(document: dict[str, Any]) -> None:
    console = stdout_console()
    decision = str(document["decision"])
    style = _DECISION_STYLE.get(decision, "bold")
    console.print(
        f"[{style}]{decision}[/]: {escape(document['principal'])} calling "
        f"{escape(document['action'])} on {escape(document['resource'])} "
        f"(tenant {escape(document['tenant'])}, account {document['account_id']})",
        soft_wrap=True,
    )
    for item in document["explanation"]:
        where = item["policy_type"]
        if item.get("target"):
            where += f" at {item['target']}"
        if item.get("policy_name"):
            where += f" {item['policy_name']}"
        if item.get("statement_index") is not None:
            where += f" statement {item['statement_index']}"
        if item.get("sid"):
            where += f" ({item['sid']})"
        console.print(f"  {escape(where)}: {escape(item['reason'])}", soft_wrap=True)
    chain = "; ".join(
        f"{level['target']}: {', '.join(level['policies']) or '-'}"
        for level in document["scp_chain"]
    )
    console.print(f"SCP chain: {escape(chain)}", soft_wrap=True)


@handle_errors
def explain(
    ctx: typer.Context,
    *,
    tenant: Annotated[str, typer.Option("--tenant", help="the tenant id")],
    action: Annotated[str, typer.Option("--action", help="service:Action")],
    resource: Annotated[str, typer.Option("--resource", help="an ARN, or *")] = "*",
    principal: Annotated[
        str | None,
        typer.Option("--principal", help="IAM role or user ARN (default: a tenant admin)"),
    ] = None,
    context: Annotated[
        list[str] | None, typer.Option("--context", help="KEY=VALUE condition key; repeatable")
    ] = None,
    identity_policy: Annotated[
        list[Path] | None,
        typer.Option("--identity-policy", help="a JSON policy of the principal; repeatable"),
    ] = None,
) -> None:
    """Evaluate one call in a tenant's account under its real SCPs; say why."""
    state = cli_state(ctx)
    body: dict[str, Any] = {
        "tenant": tenant,
        "action": action,
        "resource": resource,
        "context": parse_context(context or []),
        "identity_policies": [_read_policy(p) for p in identity_policy or []],
    }
    if principal is not None:
        body["principal"] = principal
    with state.client() as client:
        document = client.explain(body)
    if state.json:
        print_json(document)
    else:
        _render(document)
