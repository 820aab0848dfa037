"""``stockade plan``: a summary table and the changes, or the API's JSON with --output json."""

from __future__ import annotations

import json

from cli.conftest import Cli


def test_plan_json_is_the_api_document(cli: Cli) -> None:
    result = cli("-o", "json", "plan")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["summary"]["tenants_changed"] == 1
    assert [t["id"] for t in document["tenants"]] == ["fresh"]


def test_plan_table_shows_counts_and_reasons(cli: Cli) -> None:
    result = cli("plan")
    assert result.exit_code == 0, result.output
    assert "plan for release" in result.stdout
    assert "stockade-svc-orders" in result.stdout
    assert "new service orders" in result.stdout
    assert "steady" not in result.stdout  # unchanged tenants are not listed


def test_plan_needs_an_operator(cli: Cli) -> None:
    cli.env["STOCKADE_TOKEN"] = "viewer-token"
    result = cli("plan")
    assert result.exit_code == 1
    assert "STK-1410" in result.stderr
