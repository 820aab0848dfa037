"""``stockade audit list|verify`` against the real API app and audit trail, tampered with
directly in the database for ``verify``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from api.store_support import delete_event, edit_event, swap_events

from cli.conftest import Cli, one_error_line
from stockade.cli.audit import parse_since
from stockade.domain.errors import ValidationError


@pytest.fixture
def auditor(cli: Cli) -> Cli:
    cli.env["STOCKADE_TOKEN"] = "approver-token"
    for i in range(1, 7):
        cli.store.audit.append("alice" if i % 2 else "bob", "test.event", f"s-{i}", {"i": i})
    return cli


def _seqs(result_stdout: str) -> list[int]:
    return [event["seq"] for event in json.loads(result_stdout)["items"]]


def test_list_with_filters(auditor: Cli) -> None:
    result = auditor("--output", "json", "audit", "list", "--actor", "bob", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert _seqs(result.stdout) == [6, 4]
    result = auditor("--output", "json", "audit", "list", "--subject", "s-3", "--since", "1h")
    assert _seqs(result.stdout) == [3]
    result = auditor("--output", "json", "audit", "list", "--action", "other")
    assert _seqs(result.stdout) == []


def test_list_table(auditor: Cli) -> None:
    result = auditor("audit", "list", "--since", "2000-01-01")
    assert result.exit_code == 0, result.output
    assert "test.event" in result.stdout and '{"i": 5}' in result.stdout
    assert "6 events" in result.stdout


def test_since_in_the_future_lists_nothing(auditor: Cli) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    result = auditor("--output", "json", "audit", "list", "--since", later)
    assert _seqs(result.stdout) == []


def test_a_bad_since_is_a_usage_error(auditor: Cli) -> None:
    result = auditor("audit", "list", "--since", "last tuesday")
    assert result.exit_code == 2
    assert "--since 'last tuesday'" in one_error_line(result)


def test_parse_since() -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now=now) == "2025-03-01T10:30:00+00:00"
    assert parse_since("2d", now=now) == "2025-02-27T12:00:00+00:00"
    assert parse_since("2025-01-31") == "2025-01-31T00:00:00"
    assert parse_since("2025-01-31T12:00:00Z") == "2025-01-31T12:00:00+00:00"
    with pytest.raises(ValidationError):
        parse_since("5 minutes")


def test_verify_an_intact_trail_exits_0(auditor: Cli) -> None:
    result = auditor("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "intact" in result.stdout and "6 events" in result.stdout
    as_json = auditor("--output", "json", "audit", "verify")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["ok"] is True


def test_verify_reports_every_problem_and_the_first_broken_link(auditor: Cli) -> None:
    db = auditor.store.db
    edit_event(db, 6, {"i": "rewritten"})
    swap_events(db, 4, 5)
    delete_event(db, 2)
    result = auditor("audit", "verify")
    assert result.exit_code == 1
    rows = [
        [cell.strip() for cell in line.split("│")[1:3]]
        for line in result.stdout.splitlines()
        if line.count("│") >= 3
    ]
    assert rows == [["2", "missing"], ["4", "reordered"], ["5", "reordered"], ["6", "edited"]]
    error = one_error_line(result)
    assert "4 problem(s) in 5 events" in error
    assert "first broken link at seq 2" in error


@pytest.mark.parametrize(
    ("tamper", "first", "kind"),
    [
        (lambda db: edit_event(db, 3, {"i": 0}), 3, "edited"),
        (lambda db: delete_event(db, 6), 6, "missing"),
        (lambda db: swap_events(db, 1, 2), 1, "reordered"),
    ],
    ids=["edited", "deleted", "reordered"],
)
def test_verify_json_on_a_broken_trail_exits_1(auditor: Cli, tamper, first, kind) -> None:  # type: ignore[no-untyped-def]
    tamper(auditor.store.db)
    result = auditor("--output", "json", "audit", "verify")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["first_broken_seq"] == first
    assert document["problems"][0]["kind"] == kind
    assert f"first broken link at seq {first}" in one_error_line(result)


def test_viewers_cannot_read_the_audit_trail(auditor: Cli) -> None:
    auditor.env["STOCKADE_TOKEN"] = "viewer-token"
    result = auditor("audit", "list")
    assert result.exit_code == 1
    assert "may not call GET /api/v1/audit" in one_error_line(result)
