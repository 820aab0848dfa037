"""``stockade iam policy``: the IAM policies Stockade itself needs, generated from its code.

A local command (no server needed): reads the spec (``--spec``, default ``./stockade.yaml``;
only the spec itself, for its role names: templates are not read) and prints the policy
documents generated from the adapters' declarations (``server.iam``):

- ``management``: attach to the IAM user or role Stockade runs as in the management account;
- ``deploy``: the CloudFormation statement of the baseline's deploy role (the resources the
  templates create need statements of their own: those stay in the template);
- ``read``, ``scan``: the inline policies of the baseline's read and scan roles.

``--for IDENTITY`` prints that one document, bare, in either output mode (so it can go straight
to ``aws iam put-user-policy --policy-document file://...``). Without it, the table output shows
every document under a heading saying where it goes, and ``--output json`` one object keyed by
identity. Exit 0, or 2 when the spec is invalid.

Who calls it: ``stockade.cli.main`` registers ``iam_app()`` as the ``iam`` group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from stockade.cli.context import OutputFormat, cli_state
from stockade.cli.errors import handle_errors
from stockade.cli.render import print_json, stdout_console
from stockade.domain.errors import ValidationError
from stockade.domain.iam import Identity
from stockade.domain.spec import Organization
from stockade.spec.loader import load_spec_file

__all__ = ["iam_app"]


def _where(identity: Identity, organization: Organization) -> str:
    """Where a document goes, for the heading above it."""
    if identity is Identity.MANAGEMENT:
        return "attach to the IAM user or role Stockade runs as in the management account"
    if identity is Identity.DEPLOY:
        return (
            f"the CloudFormation statement of {organization.deploy_role} (baseline); the "
            "resources your templates create need statements of their own, in the template"
        )
    role = organization.read_role if identity is Identity.READ else organization.scan_role
    return f"the inline policy of {role} (baseline)"


def iam_app() -> typer.Typer:
    app = typer.Typer(help="IAM: the least-privilege policies Stockade itself needs.")

    @app.command("policy")
    @handle_errors
    def policy(
        ctx: typer.Context,
        identity: Annotated[
            Identity | None,
            typer.Option("--for", help="print only this identity's document"),
        ] = None,
        spec: Annotated[
            Path, typer.Option("--spec", dir_okay=False, help="the fleet spec file (role names)")
        ] = Path("stockade.yaml"),
        output: Annotated[
            OutputFormat | None,
            typer.Option("--output", "-o", help="table, or one JSON document"),
        ] = None,
    ) -> None:
        """Print the IAM policies Stockade needs, generated from what its code calls."""
        from stockade.server.iam import stockade_policies  # loads the AWS adapters

        organization = load_spec_file(spec).organization
        documents = stockade_policies(organization)
        if identity is not None:
            if identity not in documents:
                raise ValidationError(
                    f"no adapter method declares an IAM action for the {identity} identity",
                    hint="see cloud/aws/identities.py",
                )
            print_json(documents[identity])
            return
        if (output or cli_state(ctx).output) is OutputFormat.JSON:
            print_json({str(key): document for key, document in documents.items()})
            return
        out = stdout_console()
        for key, document in documents.items():
            out.print(f"# {key}: {escape(_where(key, organization))}", soft_wrap=True)
            out.print(escape(_pretty(document)), soft_wrap=True)
            out.print()

    return app


def _pretty(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)
