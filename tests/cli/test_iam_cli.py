"""``stockade iam policy``: Stockade's own policies, local (no server), with the spec's roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.conftest import one_error_line
from stockade.cli.main import build_app
from stockade.scaffold import write_scaffold


def stockade(*args: str) -> Result:
    return CliRunner().invoke(build_app(), list(args))


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    write_scaffold(tmp_path)
    return tmp_path / "stockade.yaml"


def test_one_identity_is_a_bare_policy_document(spec: Path) -> None:
    result = stockade("iam", "policy", "--for", "management", "--spec", str(spec))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["Version"] == "2012-10-17"
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert "organizations:CreateAccount" in statements["Organizations"]["Action"]
    assert "arn:aws:iam::*:role/StockadeDeployRole" in statements["AssumeStockadeRoles"]["Resource"]


def test_json_output_has_every_identity_and_follows_the_specs_role_names(spec: Path) -> None:
    spec.write_text(
        spec.read_text().replace("deploy_role: StockadeDeployRole", "deploy_role: Ship")
    )
    for args in (("-o", "json", "iam", "policy"), ("iam", "policy", "--output", "json")):
        result = stockade(*args, "--spec", str(spec))
        assert result.exit_code == 0, result.output
        documents = json.loads(result.stdout)
        assert list(documents) == ["management", "deploy", "read", "scan"]
        assume = next(
            s for s in documents["management"]["Statement"] if s["Sid"] == "AssumeStockadeRoles"
        )
        assert "arn:aws:iam::*:role/Ship" in assume["Resource"]


def test_the_table_output_says_where_each_document_goes(spec: Path) -> None:
    result = stockade("iam", "policy", "--spec", str(spec))
    assert result.exit_code == 0, result.output
    assert "# management: attach to the IAM user or role Stockade runs as" in result.stdout
    assert "# deploy: the CloudFormation statement of StockadeDeployRole" in result.stdout
    assert "# scan: the inline policy of StockadeScanRole (baseline)" in result.stdout


def test_a_missing_spec_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    result = stockade("iam", "policy", "--spec", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "no such spec file" in one_error_line(result)
