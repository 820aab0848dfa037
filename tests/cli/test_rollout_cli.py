"""``stockade apply`` and ``stockade rollout ...`` against the API app over ``FakeRollouts``.

The fake moves a rollout one step each time the API reads it, so following a rollout (through
the event stream, or by polling when the stream is unavailable) ends.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from api.fake_rollouts import FakeRollouts
from api.fakes import FixedPlans, fleet_plan, plan_of

from cli.conftest import Cli, one_error_line
from stockade.cli.client import StockadeClient
from stockade.cli.progress import MAX_RECONNECTS, POLL_SECONDS
from stockade.cli.states import CHANGED_STATUSES, RolloutStateName, TenantStatusName
from stockade.store import rollout_types
from stockade.store.rollout_types import RolloutState

#: a terminal to answer the confirmation on, and no progress display on stderr
TERMINAL: dict[str, Any] = {"stdin_is_tty": lambda: True}
QUIET: dict[str, Any] = {"stdout_is_tty": lambda: False}


@pytest.fixture
def plans() -> FixedPlans:
    """Five tenants to change (t-01..t-05), one up to date (s-01)."""
    return FixedPlans(fleet_plan(5))


def _started(cli: Cli, *, halt: bool = False) -> str:
    """Apply without following; optionally halt the rollout. Returns its id."""
    result = cli("-o", "json", "apply", "--yes")
    assert result.exit_code == 0, result.output
    rollout_id: str = json.loads(result.stdout)["rollout"]["id"]
    if halt:
        cli.rollouts.halt_rollout(rollout_id, actor="test", reason="paused by test")
    return rollout_id


# --- apply ---------------------------------------------------------------------------------


def test_apply_yes_shows_the_plan_and_follows_the_rollout_to_completion(cli: Cli) -> None:
    result = cli("apply", "--yes")
    assert result.exit_code == 0, result.output
    assert "plan for release" in result.stdout
    assert "started rollout ro-0001: 5 tenants in 2 waves (canary, rest)" in result.stdout
    assert "completed" in result.stdout
    assert "Apply release" not in result.stdout  # --yes: no question
    # the progress display: one bar per wave, done of size, with the counts
    assert "canary" in result.stderr
    assert "✓ 4 ✗ 0" in result.stderr
    assert "4/4" in result.stderr
    assert cli.rollouts.only().state is RolloutState.COMPLETED


def test_apply_asks_first_and_a_no_changes_nothing(cli: Cli) -> None:
    result = cli("apply", input="n\n", **TERMINAL, **QUIET)
    assert result.exit_code == 1
    assert "Apply release " in result.stdout
    assert "to 5 tenants? [y/N]" in result.stdout
    assert one_error_line(result) == "error: cancelled: nothing was changed"
    assert cli.rollouts.records == {}


def test_apply_yes_at_the_prompt_applies(cli: Cli) -> None:
    result = cli("apply", "--no-wait", input="y\n", **TERMINAL)
    assert result.exit_code == 0, result.output
    assert "follow it with `stockade rollout watch ro-0001`" in result.stdout
    assert cli.rollouts.only().state is RolloutState.PENDING


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["-o", "json", "apply"], "with --output json"),
        (["apply"], "without a terminal to ask on"),
    ],
)
def test_apply_without_yes_is_refused_where_nobody_can_answer(
    cli: Cli, args: list[str], where: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert where in line
    assert line.endswith("(pass --yes)")
    assert result.stdout == ""
    assert cli.plans.refreshes == []  # refused before asking the API anything
    assert cli.rollouts.records == {}


def test_apply_json_prints_the_apply_result_without_waiting(cli: Cli) -> None:
    result = cli("-o", "json", "apply", "--yes", "--refresh")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["summary"]["tenants_changed"] == 5
    assert document["new_release"] is True
    assert document["rollout"]["state"] == "pending"
    assert cli.plans.refreshes == [True, False]  # the plan refreshes; apply uses what it read


def test_apply_json_wait_prints_one_document_with_the_final_rollout(cli: Cli) -> None:
    result = cli("-o", "json", "apply", "--yes", "--wait")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["release_id"] == fleet_plan(5).release_id
    assert document["rollout"]["state"] == "completed"
    assert {t["status"] for t in document["rollout"]["tenants"]} == {"succeeded"}
    assert result.stderr == ""  # no progress display in JSON mode


@pytest.mark.parametrize("output", ["table", "json"])
def test_apply_with_nothing_to_change(cli: Cli, output: str) -> None:
    cli.plans.fleet_plan = plan_of(fresh=(), steady=("s-01", "s-02"))
    result = cli("-o", output, "apply", "--yes")
    assert result.exit_code == 0, result.output
    if output == "json":
        document = json.loads(result.stdout)
        assert document["rollout"] is None
        assert document["summary"]["tenants_changed"] == 0
    else:
        assert "nothing to change: every tenant is up to date" in result.stdout
    assert cli.rollouts.records == {}
    # applied all the same: its release is the current one, what new tenants get
    assert cli.rollouts.current_release == cli.plans.fleet_plan.release_id


def test_a_halted_rollout_exits_1_with_the_reason_and_failed_tenants(cli: Cli) -> None:
    cli.rollouts.failing = {"t-02"}  # the canary
    result = cli("apply", "--yes", **QUIET)
    assert result.exit_code == 1
    assert "failed tenants (1 of 1)" in result.stdout
    assert "stack stockade-baseline failed in t-02" in result.stdout
    line = one_error_line(result)
    assert line.startswith(
        "error: rollout ro-0001 halted: wave canary: 1 of 1 tenant(s) failed (see `stockade "
        "rollout show ro-0001 --failed`, then `stockade rollout resume ro-0001`"
    )


def test_apply_follows_by_polling_when_the_stream_is_unavailable(cli: Cli) -> None:
    class NoStreams:
        """An HTTP client whose event streams always break."""

        def __init__(self, http: httpx.Client) -> None:
            self.http = http
            self.streams = 0

        def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
            return self.http.request(*args, **kwargs)

        def stream(self, *args: Any, **kwargs: Any) -> Any:
            self.streams += 1
            raise httpx.RemoteProtocolError("peer closed connection without a response")

    http = NoStreams(cli.http)

    def factory(server: str, token: str | None) -> StockadeClient:
        return StockadeClient(server, token=token, http=http)  # type: ignore[arg-type]

    result = cli("apply", "--yes", client_factory=factory, **QUIET)
    assert result.exit_code == 0, result.output
    assert cli.rollouts.only().state is RolloutState.COMPLETED
    assert http.streams == MAX_RECONNECTS + 1  # reconnected a few times, then only polled
    assert cli.clock.sleeps
    assert set(cli.clock.sleeps) == {POLL_SECONDS}


def test_apply_reconnects_when_the_stream_drops_midway(cli: Cli) -> None:
    class CutStreams:
        """An HTTP client whose first event stream breaks after a few lines."""

        def __init__(self, http: httpx.Client) -> None:
            self.http = http
            self.streams = 0

        def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
            return self.http.request(*args, **kwargs)

        @contextmanager
        def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            self.streams += 1
            with self.http.stream(*args, **kwargs) as response:
                if self.streams == 1:
                    lines = response.iter_lines

                    def cut() -> Iterator[str]:
                        yield from itertools.islice(lines(), 8)
                        raise httpx.ReadError("connection reset by peer")

                    response.iter_lines = cut  # type: ignore[method-assign]
                yield response

    http = CutStreams(cli.http)

    def factory(server: str, token: str | None) -> StockadeClient:
        return StockadeClient(server, token=token, http=http)  # type: ignore[arg-type]

    result = cli("apply", "--yes", client_factory=factory, **QUIET)
    assert result.exit_code == 0, result.output
    assert http.streams == 2  # the cut stream, then one that saw the rollout complete
    assert cli.clock.sleeps == [POLL_SECONDS]  # one reading between the two
    assert cli.rollouts.only().state is RolloutState.COMPLETED


def test_viewer_cannot_apply(cli: Cli) -> None:
    cli.env["STOCKADE_TOKEN"] = "viewer-token"
    result = cli("apply", "--yes")
    assert result.exit_code == 1
    assert "STK-1410" in one_error_line(result)


# --- rollout list / show -------------------------------------------------------------------


def test_list_table_and_json(cli: Cli) -> None:
    first = _started(cli)
    cli.rollouts.run(first)
    second = _started(cli)
    table = cli("rollout", "list")
    assert table.exit_code == 0, table.output
    assert first in table.stdout
    assert second in table.stdout
    assert "5/5" in table.stdout
    assert "2 rollouts" in table.stdout
    only = cli("-o", "json", "rollout", "list", "--state", "completed", "--limit", "5")
    assert [r["id"] for r in json.loads(only.stdout)["items"]] == [first]
    assert cli("rollout", "list", "--state", "sideways").exit_code == 2


def test_show_lists_waves_and_tenants(cli: Cli) -> None:
    rollout_id = _started(cli)
    cli.rollouts.failing = {"t-02"}
    cli.rollouts.run(rollout_id)
    result = cli("rollout", "show", rollout_id)
    assert result.exit_code == 0, result.output
    assert "halt reason" in result.stdout
    assert "canary" in result.stdout
    assert "tenants (5 of 5)" in result.stdout
    failed = cli("rollout", "show", rollout_id, "--failed")
    assert "failed tenants (1 of 1)" in failed.stdout
    assert "t-02" in failed.stdout
    assert "t-01" not in failed.stdout
    bare = cli("rollout", "show", rollout_id, "--no-tenants")
    assert "canary" in bare.stdout
    assert "t-02" not in bare.stdout
    document = json.loads(cli("-o", "json", "rollout", "show", rollout_id).stdout)
    assert document["state"] == "halted"
    assert len(document["tenants"]) == 5


def test_unknown_rollout_is_one_line_and_exit_1(cli: Cli) -> None:
    for args in (["show", "ro-nope"], ["watch", "ro-nope"], ["halt", "ro-nope"]):
        result = cli("rollout", *args)
        assert result.exit_code == 1
        assert one_error_line(result).startswith("error: STK-1200: rollout 'ro-nope' does not")


# --- halt / resume / rollback / watch ------------------------------------------------------


def test_halt_with_a_reason_then_a_conflict(cli: Cli) -> None:
    rollout_id = _started(cli)
    result = cli("rollout", "halt", rollout_id, "--reason", "bad metrics")
    assert result.exit_code == 0, result.output
    assert "bad metrics" in result.stdout
    assert cli.rollouts.get_rollout(rollout_id).halt_reason == "bad metrics"
    again = cli("rollout", "halt", rollout_id)
    assert again.exit_code == 2  # a conflict with the rollout's state
    assert "STK-1300" in one_error_line(again)


def test_halt_json_uses_the_default_reason(cli: Cli) -> None:
    rollout_id = _started(cli)
    result = cli("-o", "json", "rollout", "halt", rollout_id)
    assert json.loads(result.stdout)["halt_reason"] == "halted by operator@example.com"


def test_resume_wait_retries_and_completes(cli: Cli) -> None:
    rollout_id = _started(cli)
    cli.rollouts.failing = {"t-02"}
    cli.rollouts.run(rollout_id)
    cli.rollouts.failing = set()
    result = cli("rollout", "resume", rollout_id, "--wait", **QUIET)
    assert result.exit_code == 0, result.output
    assert "completed" in result.stdout
    tenants = cli.rollouts.get_rollout(rollout_id).tenants or ()
    retried = next(t for t in tenants if t.tenant_id == "t-02")
    assert retried.attempts == 2


def test_resume_without_wait_shows_the_running_rollout(cli: Cli) -> None:
    rollout_id = _started(cli, halt=True)
    result = cli("-o", "json", "rollout", "resume", rollout_id)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "running"


def test_rollback_needs_yes_without_a_terminal(cli: Cli) -> None:
    cli.rollouts.current_release = "r-before"
    rollout_id = _started(cli, halt=True)
    result = cli("rollout", "rollback", rollout_id)
    assert result.exit_code == 2
    assert "pass --yes" in one_error_line(result)
    assert cli.rollouts.get_rollout(rollout_id).state is RolloutState.HALTED


def test_rollback_asks_and_starts_a_new_rollout(cli: Cli) -> None:
    cli.rollouts.current_release = "r-before"
    rollout_id = _started(cli)
    cli.rollouts.step()
    cli.rollouts.step()  # the canary is running
    cli.rollouts.halt_rollout(rollout_id, actor="test", reason="stop")
    result = cli("rollout", "rollback", rollout_id, input="y\n", **TERMINAL)
    assert result.exit_code == 0, result.output
    assert "redeploy release r-before to 1 tenant it changed? [y/N]" in result.stdout
    assert "ro-0002" in result.stdout
    assert "rollback of" in result.stdout
    new = cli.rollouts.get_rollout("ro-0002")
    assert new.rollback_of == rollout_id
    assert new.release_id == "r-before"


def test_rollback_yes_wait_follows_the_new_rollout(cli: Cli) -> None:
    cli.rollouts.current_release = "r-before"
    rollout_id = _started(cli)
    cli.rollouts.run(rollout_id)
    result = cli("-o", "json", "rollout", "rollback", rollout_id, "--yes", "--wait")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["rollback_of"] == rollout_id
    assert document["state"] == "completed"
    assert cli.rollouts.get_rollout(rollout_id).state is RolloutState.ROLLED_BACK


def test_rollback_of_a_running_rollout_is_a_conflict(cli: Cli) -> None:
    cli.rollouts.current_release = "r-before"
    rollout_id = _started(cli)
    result = cli("rollout", "rollback", rollout_id, "--yes")
    assert result.exit_code == 2
    assert "halt it first" in one_error_line(result)


def test_watch_follows_to_completion(cli: Cli) -> None:
    rollout_id = _started(cli)
    result = cli("rollout", "watch", rollout_id)
    assert result.exit_code == 0, result.output
    assert "rest" in result.stderr  # the progress bars
    assert "completed" in result.stdout


def test_watch_a_halted_rollout_exits_1(cli: Cli) -> None:
    rollout_id = _started(cli, halt=True)
    result = cli("-o", "json", "rollout", "watch", rollout_id)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["state"] == "halted"
    assert one_error_line(result).startswith(
        f"error: rollout {rollout_id} halted: paused by test (see"
    )


# --- the CLI's spelling of the API's states ------------------------------------------------


def test_cli_states_match_the_store() -> None:
    assert [s.value for s in RolloutStateName] == [s.value for s in RolloutState]
    assert [s.value for s in TenantStatusName] == [s.value for s in rollout_types.TenantStatus]
    assert {s.value for s in CHANGED_STATUSES} == {s.value for s in rollout_types.CHANGED_STATUSES}


def test_fake_rollouts_are_a_rollout_operations() -> None:
    from stockade.engine.facade import RolloutOperations

    operations: RolloutOperations = FakeRollouts()
    assert operations.list_rollouts() == []
