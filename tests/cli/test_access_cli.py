"""``stockade access``: the three credential formats, ``--duration`` checked before any request,
``~/.aws/config`` profiles, and break-glass requests from the command line."""

from __future__ import annotations

import configparser
import json
import shlex

import pytest
from api.fake_access import SECRET_PREFIX, FakeSessions

from cli.conftest import Cli, one_error_line
from stockade.domain.tenant import TenantState

ACCOUNT = "111122223333"
GET = ("access", "acme", "--role", "readonly", "--reason", "ticket 42")


@pytest.fixture(autouse=True)
def fleet(cli: Cli) -> None:
    cli.tenants.put("acme", state=TenantState.ACTIVE, account_id=ACCOUNT)
    cli.tenants.put("globex", state=TenantState.ACTIVE, account_id="444455556666")


def test_env_format_is_export_lines_after_a_comment(cli: Cli) -> None:
    result = cli(*GET)
    assert result.exit_code == 0, result.output
    comment, *exports = result.stdout.splitlines()
    assert comment.startswith("# stockade access: tenant acme (111122223333), role readonly")
    assert [line.split("=")[0] for line in exports] == [
        "export AWS_ACCESS_KEY_ID",
        "export AWS_SECRET_ACCESS_KEY",
        "export AWS_SESSION_TOKEN",
    ]
    assert exports[1] == f"export AWS_SECRET_ACCESS_KEY={SECRET_PREFIX}1"
    assert result.stderr == ""


def test_credential_process_format_is_exactly_what_the_aws_cli_reads(cli: Cli) -> None:
    result = cli(*GET, "--format", "credential-process")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == [
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ]
    assert document["Version"] == 1
    assert document["SecretAccessKey"] == f"{SECRET_PREFIX}1"
    assert document["Expiration"].endswith("Z") and len(document["Expiration"]) == 20


def test_json_format_is_the_api_document(cli: Cli) -> None:
    for args in (("--output", "json", *GET), (*GET, "--format", "json")):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert (document["tenant"], document["account_id"], document["role"]) == (
            "acme",
            ACCOUNT,
            "readonly",
        )
        assert set(document["credentials"]) == {
            "access_key_id",
            "secret_access_key",
            "session_token",
            "expiration",
        }


@pytest.mark.parametrize(("duration", "seconds"), [("30m", 1800), ("45", 2700), ("900s", 900)])
def test_duration_is_sent_in_seconds(
    cli: Cli, sessions: FakeSessions, duration: str, seconds: int
) -> None:
    assert cli(*GET, "--duration", duration).exit_code == 0
    assert [c.duration_seconds for c in sessions.calls] == [seconds]


@pytest.mark.parametrize("duration", ["2h", "10m", "soon"])
def test_a_bad_duration_is_one_line_and_exit_2_before_any_request(
    cli: Cli, sessions: FakeSessions, duration: str
) -> None:
    result = cli(*GET, "--duration", duration)
    assert result.exit_code == 2
    assert "--duration" in one_error_line(result)
    assert sessions.calls == [] and result.stdout == ""


def test_refusals_are_one_line_and_print_no_credentials(cli: Cli) -> None:
    viewer = cli(*GET[:3], "operator", *GET[4:], environ={"STOCKADE_TOKEN": "viewer-token"})
    assert viewer.exit_code == 1
    assert "STK-1520" in one_error_line(viewer)
    missing = cli("access", "nope", "--role", "readonly", "--reason", "x")
    assert missing.exit_code == 1 and "does not exist" in one_error_line(missing)
    assert cli("access", "acme", "--role", "readonly").exit_code == 2  # --reason is required


def test_profiles_are_a_ready_aws_config(cli: Cli) -> None:
    result = cli("access", "profiles", "--reason", "on call (rota)")
    assert result.exit_code == 0, result.output
    config = configparser.RawConfigParser()
    config.read_string(result.stdout)
    assert config.sections() == [
        "profile stockade-acme-readonly",
        "profile stockade-acme-operator",
        "profile stockade-globex-readonly",
        "profile stockade-globex-operator",
    ]
    section = config["profile stockade-acme-operator"]
    assert section["region"] == "us-east-1"
    assert shlex.split(section["credential_process"]) == [
        "stockade",
        "--server",
        "http://127.0.0.1:8080",
        "access",
        "acme",
        "--role",
        "operator",
        "--reason",
        "on call (rota)",
        "--format",
        "credential-process",
    ]
    assert "4 profile(s)" in result.stderr
    viewer = cli("access", "profiles", "--reason", "x", environ={"STOCKADE_TOKEN": "viewer-token"})
    assert viewer.stdout.count("[profile ") == 2
    assert cli("access", "profiles", "--reason", " ").exit_code == 2


def test_break_glass_from_the_command_line(cli: Cli, sessions: FakeSessions) -> None:
    approver = {"STOCKADE_TOKEN": "approver-token"}
    asked = cli("--output", "json", "access", "request", "acme", "--reason", "db down")
    assert asked.exit_code == 0, asked.output
    request_id = json.loads(asked.stdout)["id"]
    assert f"stockade access approve {request_id}" in asked.stderr
    listed = cli("access", "requests", "--state", "pending", environ=approver)
    assert request_id in listed.stdout and "pending" in listed.stdout

    approved = cli("access", "approve", request_id, environ=approver)
    assert approved.exit_code == 0, approved.output
    assert "approved" in approved.stdout
    used = cli(
        "access", "acme", "--role", "breakglass", "--request", request_id, "--reason", "fix",
        "--format", "credential-process",
    )  # fmt: skip
    assert used.exit_code == 0, used.output
    assert [c.role_name for c in sessions.calls] == ["StockadeBreakGlassRole"]
    again = cli("access", "acme", "--role", "breakglass", "--request", request_id, "--reason", "x")
    assert again.exit_code == 2 and "STK-1540" in one_error_line(again)

    other = json.loads(cli("-o", "json", "access", "request", "acme", "--reason", "x").stdout)
    denied = cli("access", "deny", other["id"], "--reason", "use readonly", environ=approver)
    assert denied.exit_code == 0 and "denied" in denied.stdout
    not_approver = cli("access", "approve", other["id"])  # operator-token
    assert not_approver.exit_code == 1 and "STK-1410" in one_error_line(not_approver)
