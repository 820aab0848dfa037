"""The baseline's roles for Stockade carry exactly the generated policies, so they cannot drift.

The read and scan roles' inline policies are the generated ``read`` and ``scan`` documents,
statement for statement; the deploy role's CloudFormation statement is the generated
``deploy`` one (its other statements are the vendor's: what the templates create). Role names
and the roles Stockade assumes come from the example spec.
"""

from __future__ import annotations

from typing import Any

import yaml

from stockade.domain.iam import Identity
from stockade.domain.spec import Organization
from stockade.scaffold import example_spec_path
from stockade.server.iam import stockade_policies
from stockade.spec.loader import load_spec_file
from stockade.spec.templates import CfnYamlLoader

ACCESS = example_spec_path().parent / "templates" / "baseline" / "access.yaml"
ORGANIZATION = load_spec_file(example_spec_path()).organization


def _normalized(statement: dict[str, Any]) -> dict[str, Any]:
    def listed(value: Any) -> list[Any]:
        return sorted(value) if isinstance(value, list) else [value]

    return {
        key: listed(value) if key in ("Action", "Resource") else value
        for key, value in statement.items()
    }


def _inline_statements(role_name: str) -> list[dict[str, Any]]:
    template = yaml.load(ACCESS.read_text(), Loader=CfnYamlLoader)
    roles = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role"
        and resource["Properties"].get("RoleName") == role_name
    ]
    assert len(roles) == 1, f"{ACCESS.name} has no role named {role_name}"
    return [
        _normalized(statement)
        for policy in roles[0].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _generated(organization: Organization) -> dict[Identity, list[dict[str, Any]]]:
    return {
        identity: [_normalized(s) for s in document["Statement"]]
        for identity, document in stockade_policies(organization).items()
    }


def _hint(identity: Identity) -> str:
    return f"regenerate with `stockade iam policy --for {identity}` and paste into {ACCESS.name}"


def test_read_and_scan_roles_carry_exactly_the_generated_policies() -> None:
    generated = _generated(ORGANIZATION)
    for identity, role in (
        (Identity.READ, ORGANIZATION.read_role),
        (Identity.SCAN, ORGANIZATION.scan_role),
    ):
        assert _inline_statements(role) == generated[identity], _hint(identity)


def test_the_deploy_roles_cloudformation_statement_is_the_generated_one() -> None:
    generated = _generated(ORGANIZATION)
    statements = _inline_statements(ORGANIZATION.deploy_role)
    cloudformation = [
        s for s in statements if any(a.startswith("cloudformation:") for a in s["Action"])
    ]
    assert cloudformation == generated[Identity.DEPLOY], _hint(Identity.DEPLOY)
