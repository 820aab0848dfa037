"""``stockade guardrails test`` (local, over the spec) and ``stockade policy explain`` (server)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from cli.conftest import Cli, one_error_line
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.scaffold import write_scaffold


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    write_scaffold(tmp_path)
    return tmp_path / "stockade.yaml"


def test_the_example_guardrails_pass(cli: Cli, spec: Path) -> None:
    result = cli("guardrails", "test", "--spec", str(spec))
    assert result.exit_code == 0, result.output
    assert "3 passed, 0 failed" in result.stdout
    document = json.loads(cli("-o", "json", "guardrails", "test", "--spec", str(spec)).stdout)
    assert document["failed"] == 0
    leave = next(t for t in document["tests"] if "leave" in t["name"])
    assert leave["decision"] == "explicit_deny"
    assert leave["explanation"][0]["sid"] == "DenyLeavingTheOrganization"


def test_a_failing_guardrail_is_explained_and_exits_1(cli: Cli, spec: Path) -> None:
    # drop the SCP's targets to the Suspended OU only: tenants may now leave the organization
    text = spec.read_text().replace(
        'targets: ["ou:Tenants", "ou:Suspended"]', 'targets: ["ou:Suspended"]'
    )
    spec.write_text(text)
    result = cli("guardrails", "test", "--spec", str(spec))
    assert result.exit_code == 1
    assert (
        "FAIL  a tenant admin cannot leave the organization: expected explicit_deny, got allow"
        in result.stdout
    )
    assert "1 passed, 2 failed" in result.stdout  # CloudTrail is no longer protected either


def test_a_bad_scp_file_is_one_error_line_naming_it(cli: Cli, spec: Path) -> None:
    scp = spec.parent / "policies" / "deny-leave-and-tamper.json"
    scp.write_text(scp.read_text().replace('"Effect": "Deny"', '"Effect": "Refuse"', 1))
    result = cli("guardrails", "test", "--spec", str(spec))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "deny-leave-and-tamper.json" in line and "Effect" in line
    assert "guardrails.scps[0].file" in line


def test_explain_asks_the_server_and_shows_the_deciding_scp(cli: Cli) -> None:
    tenant = cli.tenants.create_tenant(TenantRequest(tenant_id="acme", tier="free"), actor="t")
    cli.tenants.tenants["acme"] = replace(
        tenant, state=TenantState.ACTIVE, account_id="111122223333"
    )
    result = cli(
        "policy", "explain", "--tenant", "acme", "--action", "organizations:LeaveOrganization"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("explicit_deny: arn:aws:iam::111122223333:role/TenantAdmin")
    assert "scp at ou:Tenants deny-leave statement 0 (NoLeaving): denies" in result.stdout
    document = json.loads(
        cli(
            "-o",
            "json",
            "policy",
            "explain",
            "--tenant",
            "acme",
            "--action",
            "s3:GetObject",
            "--context",
            "aws:RequestedRegion=eu-west-1",
        ).stdout
    )
    assert document["decision"] == "allow"


def test_explain_bad_input(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "policy", "explain", "--tenant", "acme", "--action", "s3:GetObject", "--context", "novalue"
    )
    assert result.exit_code == 2
    assert "--context 'novalue' is not KEY=VALUE" in one_error_line(result)
    result = cli("policy", "explain", "--tenant", "ghost", "--action", "s3:GetObject")
    assert result.exit_code == 1
    assert "ghost" in one_error_line(result)
    broken = tmp_path / "p.json"
    broken.write_text("{")
    result = cli(
        "policy",
        "explain",
        "--tenant",
        "acme",
        "--action",
        "s3:GetObject",
        "--identity-policy",
        str(broken),
    )
    assert result.exit_code == 2
    assert "not valid JSON" in one_error_line(result)
