"""``stockade scan credentials`` against the real API app over a faked scan: the table, the
JSON, and the exit codes (0 clean, 1 findings or unscanned accounts)."""

from __future__ import annotations

import json

import pytest
from api.fake_scans import FakeScans

from cli.conftest import Cli, one_error_line
from stockade.engine.scan import AccountScanError

#: the scan asks for a long timeout, which Starlette's in-process test client only warns about
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich lays tables out for COLUMNS: wide enough that no value folds."""
    monkeypatch.setenv("COLUMNS", "200")


def test_findings_are_a_table_and_exit_1(cli: Cli, scans: FakeScans) -> None:
    result = cli("scan", "credentials")
    assert result.exit_code == 1, result.output
    out = result.stdout
    for text in ("SEVERITY", "critical", "root access key", "console without MFA", "deployer"):
        assert text in out
    assert "AKIAOLDKEY0000000001" in out and "400 d" in out and "2026-01-30 (s3)" in out
    assert "3 finding(s) in 2 of 2 account(s): 1 critical, 2 high" in out
    assert result.stderr == ""
    assert scans.calls == [None]


def test_json_is_the_api_document(cli: Cli) -> None:
    result = cli("--output", "json", "scan", "credentials", "--tenant", "globex")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["counts"]["findings"] == 1
    assert document["findings"][0]["principal"] == "alice"


def test_a_clean_fleet_exits_0(cli: Cli, scans: FakeScans) -> None:
    scans.findings = ()
    result = cli("scan", "credentials", "--tenant", "acme", "--tenant", "initech")
    assert result.exit_code == 0, result.output
    assert "clean" in result.stdout
    assert scans.calls == [frozenset({"acme", "initech"})]


def test_an_account_not_scanned_is_not_clean(cli: Cli, scans: FakeScans) -> None:
    scans.findings = ()
    scans.errors = (
        AccountScanError("acme", "111111111111", "STK-2101", "iam:ListUsers: Throttling", True),
    )
    result = cli("scan", "credentials")
    assert result.exit_code == 1
    assert "accounts not scanned" in result.stdout
    assert "transient: scan again" in result.stdout
    assert "clean" not in result.stdout.replace("not scanned", "")


def test_viewers_are_refused_in_one_line(cli: Cli) -> None:
    cli.env["STOCKADE_TOKEN"] = "viewer-token"
    result = cli("scan", "credentials")
    assert result.exit_code == 1
    assert "STK-1410" in one_error_line(result)
