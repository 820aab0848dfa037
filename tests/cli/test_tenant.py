"""``stockade tenant ...`` against the real API app: output, errors and exit codes."""

from __future__ import annotations

import json

import pytest

from cli.conftest import Cli, one_error_line
from stockade.domain.tenant import TenantState


def test_create_json_prints_one_document(cli: Cli) -> None:
    result = cli("--output", "json", "tenant", "create", "acme", "--tier", "pro", "--name", "Acme")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["id"] == "acme"
    assert document["name"] == "Acme"
    assert document["state"] == "requested"
    assert result.stderr == ""
    assert cli.tenants.actors == ["operator@example.com"]


def test_create_table(cli: Cli) -> None:
    result = cli("tenant", "create", "acme", "--tier", "pro")
    assert result.exit_code == 0, result.output
    assert "acme" in result.stdout
    assert "requested" in result.stdout


def test_create_sends_labels(cli: Cli) -> None:
    result = cli(
        "tenant", "create", "acme", "--tier", "pro", "--label", "env=prod", "--label", "note=a=b"
    )
    assert result.exit_code == 0, result.output
    assert cli.tenants.tenants["acme"].labels == {"env": "prod", "note": "a=b"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["Not_A_Slug", "--tier", "pro"], "STK-1000: tenant id 'Not_A_Slug'"),
        (["acme", "--tier", "platinum"], "STK-1000: unknown tier 'platinum'"),
        (["acme", "--tier", "pro", "--label", "env"], "--label 'env' is not KEY=VALUE"),
        (["acme", "--tier", "pro", "--label", "=prod"], "is not KEY=VALUE"),
        (["acme", "--tier", "pro", "--label", "a=1", "--label", "a=2"], "given twice"),
        (["acme", "--tier", "pro", "--label", "Bad Key=1"], "label key 'Bad Key'"),
    ],
)
def test_invalid_create_is_one_line_and_exit_2(cli: Cli, args: list[str], needle: str) -> None:
    result = cli("tenant", "create", *args)
    assert result.exit_code == 2
    assert needle in one_error_line(result)
    assert result.stdout == ""
    assert cli.tenants.tenants == {}


def test_missing_tier_is_a_usage_error(cli: Cli) -> None:
    result = cli("tenant", "create", "acme")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_duplicate_is_exit_2(cli: Cli) -> None:
    assert cli("tenant", "create", "acme", "--tier", "pro").exit_code == 0
    result = cli("tenant", "create", "acme", "--tier", "pro")
    assert result.exit_code == 2
    assert "STK-1300" in one_error_line(result)


def test_viewer_cannot_create(cli: Cli) -> None:
    cli.env["STOCKADE_TOKEN"] = "viewer-token"
    result = cli("tenant", "create", "acme", "--tier", "pro")
    assert result.exit_code == 1
    assert "STK-1410: role 'viewer'" in one_error_line(result)


def test_show_unknown_is_exit_1(cli: Cli) -> None:
    result = cli("tenant", "show", "nobody")
    assert result.exit_code == 1
    assert one_error_line(result).startswith("error: STK-1200: tenant 'nobody' does not exist")


def test_show(cli: Cli) -> None:
    cli.tenants.put("acme", state=TenantState.FAILED, failure_reason="quota", failed_step="create")
    table = cli("tenant", "show", "acme")
    assert table.exit_code == 0, table.output
    assert "failed" in table.stdout
    assert "quota" in table.stdout
    document = json.loads(cli("-o", "json", "tenant", "show", "acme").stdout)
    assert document["failure_reason"] == "quota"


def test_list_json_is_the_api_document(cli: Cli) -> None:
    cli.tenants.put("alpha", state=TenantState.ACTIVE)
    cli.tenants.put("bravo", state=TenantState.FAILED)
    result = cli("--output", "json", "tenant", "list")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["count"] == 2
    assert [item["id"] for item in document["items"]] == ["alpha", "bravo"]


def test_list_filters(cli: Cli) -> None:
    cli.tenants.put("alpha", tier="free", state=TenantState.ACTIVE)
    cli.tenants.put("bravo", tier="pro", state=TenantState.ACTIVE)
    cli.tenants.put("charlie", tier="pro", state=TenantState.FAILED)
    result = cli("-o", "json", "tenant", "list", "--state", "active", "--tier", "pro")
    assert [item["id"] for item in json.loads(result.stdout)["items"]] == ["bravo"]


def test_list_table(cli: Cli) -> None:
    cli.tenants.put("alpha", state=TenantState.ACTIVE, account_id="123456789012")
    result = cli("tenant", "list")
    assert result.exit_code == 0, result.output
    assert "alpha" in result.stdout
    assert "123456789012" in result.stdout
    assert "1 tenant" in result.stdout


def test_list_unknown_state_is_a_usage_error(cli: Cli) -> None:
    assert cli("tenant", "list", "--state", "sleeping").exit_code == 2


def test_retry_conflict_is_exit_2(cli: Cli) -> None:
    cli.tenants.put("acme", state=TenantState.ACTIVE)
    result = cli("tenant", "retry", "acme")
    assert result.exit_code == 2
    assert "STK-1300" in one_error_line(result)


def test_retry(cli: Cli) -> None:
    cli.tenants.put("acme", state=TenantState.FAILED)
    result = cli("-o", "json", "tenant", "retry", "acme")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["attempt"] == 2


def test_path_characters_in_an_id_cannot_change_the_route(cli: Cli) -> None:
    result = cli("tenant", "show", "../fleet/summary")
    assert result.exit_code == 1
    assert "STK-1200" in one_error_line(result)


class TestWait:
    def test_create_wait_until_active(self, cli: Cli) -> None:
        cli.tenants.then(
            "acme", TenantState.PROVISIONING, TenantState.ACTIVE, account_id="123456789012"
        )
        result = cli("-o", "json", "tenant", "create", "acme", "--tier", "pro", "--wait")
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["state"] == "active"
        assert document["account_id"] == "123456789012"
        assert cli.clock.sleeps == [2.0, 2.0]
        assert result.stderr == ""

    def test_create_wait_table(self, cli: Cli) -> None:
        cli.tenants.then("acme", TenantState.ACTIVE)
        result = cli("tenant", "create", "acme", "--tier", "pro", "--wait")
        assert result.exit_code == 0, result.output
        assert "active" in result.stdout

    def test_retry_wait_until_failed_is_exit_1(self, cli: Cli) -> None:
        cli.tenants.put("acme", state=TenantState.FAILED)
        cli.tenants.then(
            "acme", TenantState.FAILED, failure_reason="quota exceeded", failed_step="baseline"
        )
        result = cli("-o", "json", "tenant", "retry", "acme", "--wait")
        assert result.exit_code == 1
        assert json.loads(result.stdout)["state"] == "failed"
        assert one_error_line(result) == (
            "error: tenant 'acme' failed at baseline: quota exceeded "
            "(fix the cause, then `stockade tenant retry acme --wait`)"
        )

    def test_wait_times_out(self, cli: Cli) -> None:
        cli.tenants.put("acme", state=TenantState.FAILED)
        result = cli("tenant", "retry", "acme", "--wait", "--timeout", "5")
        assert result.exit_code == 1
        assert "still provisioning after 5 s" in one_error_line(result)
        assert result.stdout == ""
