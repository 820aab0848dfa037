"""The rollout routes over ``FakeRollouts``: apply, list, show, halt, resume, roll back, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.fake_rollouts import FakeRollouts
from api.fakes import FixedPlans, bearer, fleet_plan, plan_of
from stockade.api.rollout_events import rollout_stream
from stockade.cli.sse import SseEvent, parse_sse
from stockade.domain.errors import NotFoundError
from stockade.store.rollout_types import Rollout, RolloutState

ROLLOUTS = "/api/v1/rollouts"


@pytest.fixture
def plans() -> FixedPlans:
    """Five tenants to change (t-01..t-05) and one up to date (s-01)."""
    return FixedPlans(fleet_plan(5))


def _apply(client: TestClient, role: str = "operator", **body: Any) -> dict[str, Any]:
    response = client.post(ROLLOUTS, headers=bearer(role), json=body)
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["hint"] is not None
    message: str = error["message"]
    return message


def _events(client: TestClient, rollout_id: str, role: str = "viewer") -> list[SseEvent]:
    with client.stream("GET", f"{ROLLOUTS}/{rollout_id}/events", headers=bearer(role)) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-cache"
        return list(parse_sse(stream.iter_lines()))


# --- apply ---------------------------------------------------------------------------------


def test_apply_starts_a_rollout_of_the_changed_tenants(
    client: TestClient, rollouts: FakeRollouts, plans: FixedPlans
) -> None:
    document = _apply(client, refresh=True)
    assert plans.refreshes == [True]
    assert document["release_id"] == fleet_plan(5).release_id
    assert document["new_release"] is True
    assert document["summary"]["tenants"] == 6
    assert document["summary"]["tenants_changed"] == 5
    assert "tenants" not in document  # the summary only, not every tenant's plan
    rollout = document["rollout"]
    assert rollout["state"] == "pending"
    assert rollout["created_by"] == "operator@example.com"
    assert rollout["size"] == 5
    assert rollout["counts"] == {
        "pending": 5,
        "running": 0,
        "succeeded": 0,
        "failed": 0,
        "skipped": 0,
    }
    assert [(w["name"], w["size"], w["max_concurrency"]) for w in rollout["waves"]] == [
        ("canary", 1, 1),
        ("rest", 4, 2),
    ]
    assert sorted(t["tenant_id"] for t in rollout["tenants"]) == [f"t-0{n}" for n in range(1, 6)]
    assert rollouts.actors == ["operator@example.com"]


def test_apply_with_nothing_to_change_starts_no_rollout(
    client: TestClient, plans: FixedPlans
) -> None:
    plans.fleet_plan = plan_of(fresh=(), steady=("s-01", "s-02"))
    document = _apply(client, role="admin")
    assert document["rollout"] is None
    assert document["summary"]["tenants_changed"] == 0


def test_apply_while_a_rollout_is_open_is_a_conflict(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    first = _apply(client)["rollout"]
    message = _error(client.post(ROLLOUTS, headers=bearer("operator")), 409, "STK-1300")
    assert first["id"] in message
    rollouts.run(first["id"])
    assert _apply(client)["new_release"] is False  # the same release, applied again


def test_apply_refuses_unknown_fields(client: TestClient) -> None:
    response = client.post(ROLLOUTS, headers=bearer("operator"), json={"refresh": "soon"})
    _error(response, 422, "STK-1000")
    response = client.post(ROLLOUTS, headers=bearer("operator"), json={"force": True})
    _error(response, 422, "STK-1000")


# --- roles ---------------------------------------------------------------------------------


def test_viewers_read_but_do_not_change(client: TestClient, rollouts: FakeRollouts) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    viewer = bearer("viewer")
    for path in ("", f"/{rollout_id}/halt", f"/{rollout_id}/resume", f"/{rollout_id}/rollback"):
        response = client.post(ROLLOUTS + path, headers=viewer, json={})
        assert "role 'viewer'" in _error(response, 403, "STK-1410")
    assert client.get(ROLLOUTS, headers=viewer).status_code == 200
    assert client.get(f"{ROLLOUTS}/{rollout_id}", headers=viewer).status_code == 200
    rollouts.run(rollout_id)
    assert _events(client, rollout_id, role="viewer")
    assert client.get(ROLLOUTS).status_code == 401
    assert client.get(f"{ROLLOUTS}/{rollout_id}/events").status_code == 401


# --- list and show -------------------------------------------------------------------------


def test_list_is_newest_first_without_tenants_and_filters_by_state(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    first = _apply(client)["rollout"]["id"]
    rollouts.run(first)
    second = _apply(client)["rollout"]["id"]
    body = client.get(ROLLOUTS, headers=bearer("viewer")).json()
    assert [r["id"] for r in body["items"]] == [second, first]
    assert body["count"] == 2
    assert all(r["tenants"] is None for r in body["items"])
    assert body["items"][1]["counts"]["succeeded"] == 5
    completed = client.get(ROLLOUTS, params={"state": "completed"}, headers=bearer("viewer"))
    assert [r["id"] for r in completed.json()["items"]] == [first]
    one = client.get(ROLLOUTS, params={"limit": 1}, headers=bearer("viewer"))
    assert [r["id"] for r in one.json()["items"]] == [second]


@pytest.mark.parametrize("params", [{"state": "sideways"}, {"limit": 0}, {"limit": 501}])
def test_list_refuses_bad_queries(client: TestClient, params: dict[str, Any]) -> None:
    _error(client.get(ROLLOUTS, params=params, headers=bearer("viewer")), 422, "STK-1000")


def test_show_has_every_tenant_with_its_error(client: TestClient, rollouts: FakeRollouts) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    rollouts.failing = {"t-02"}  # the canary
    rollouts.run(rollout_id)
    body = client.get(f"{ROLLOUTS}/{rollout_id}", headers=bearer("viewer")).json()
    assert body["state"] == "halted"
    assert body["halt_reason"] == "wave canary: 1 of 1 tenant(s) failed"
    tenants = {t["tenant_id"]: t for t in body["tenants"]}
    assert tenants["t-02"]["status"] == "failed"
    assert tenants["t-02"]["error"] == "stack stockade-baseline failed in t-02"
    assert tenants["t-02"]["attempts"] == 1
    assert tenants["t-02"]["started_at"] is not None
    assert tenants["t-02"]["finished_at"] is not None
    assert tenants["t-01"]["status"] == "pending"
    assert body["waves"][0]["counts"]["failed"] == 1
    assert body["current_wave"] == 1
    assert body["counts"]["failed"] == 1


def test_unknown_rollout_is_404_everywhere(client: TestClient) -> None:
    operator = bearer("operator")
    for method, path in [
        ("GET", ""),
        ("POST", "/halt"),
        ("POST", "/resume"),
        ("POST", "/rollback"),
        ("GET", "/events"),
    ]:
        response = client.request(method, f"{ROLLOUTS}/ro-nope{path}", headers=operator)
        assert "ro-nope" in _error(response, 404, "STK-1200")
        assert response.headers["content-type"] == "application/json"


# --- halt, resume, rollback ----------------------------------------------------------------


def test_halt_with_and_without_a_reason(client: TestClient, rollouts: FakeRollouts) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    response = client.post(f"{ROLLOUTS}/{rollout_id}/halt", headers=bearer("operator"))
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "halted"
    assert response.json()["halt_reason"] == "halted by operator@example.com"
    client.post(f"{ROLLOUTS}/{rollout_id}/resume", headers=bearer("operator"))
    response = client.post(
        f"{ROLLOUTS}/{rollout_id}/halt", headers=bearer("admin"), json={"reason": "bad canary"}
    )
    assert response.json()["halt_reason"] == "bad canary"
    assert response.json()["updated_by"] == "admin@example.com"


@pytest.mark.parametrize("reason", ["", "x" * 501])
def test_halt_reason_must_be_1_to_500_characters(client: TestClient, reason: str) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    response = client.post(
        f"{ROLLOUTS}/{rollout_id}/halt", headers=bearer("operator"), json={"reason": reason}
    )
    assert "reason" in _error(response, 422, "STK-1000")


def test_wrong_states_are_conflicts(client: TestClient, rollouts: FakeRollouts) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    operator = bearer("operator")
    _error(client.post(f"{ROLLOUTS}/{rollout_id}/resume", headers=operator), 409, "STK-1300")
    message = _error(
        client.post(f"{ROLLOUTS}/{rollout_id}/rollback", headers=operator), 409, "STK-1300"
    )
    assert "halt it first" in message
    rollouts.run(rollout_id)
    _error(client.post(f"{ROLLOUTS}/{rollout_id}/halt", headers=operator), 409, "STK-1300")
    message = _error(
        client.post(f"{ROLLOUTS}/{rollout_id}/rollback", headers=operator), 409, "STK-1300"
    )
    assert "no previous release" in message


def test_resume_retries_failed_tenants_to_completion(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    rollouts.failing = {"t-02"}
    assert rollouts.run(rollout_id).state is RolloutState.HALTED
    rollouts.failing = set()
    response = client.post(f"{ROLLOUTS}/{rollout_id}/resume", headers=bearer("operator"))
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "running"
    assert response.json()["halt_reason"] is None
    final = rollouts.run(rollout_id)
    assert final.state is RolloutState.COMPLETED
    retried = next(t for t in final.tenants or () if t.tenant_id == "t-02")
    assert retried.attempts == 2


def test_rollback_returns_the_new_rollout(client: TestClient, rollouts: FakeRollouts) -> None:
    rollouts.current_release = "r-before"
    original = _apply(client)["rollout"]
    assert original["previous_release_id"] == "r-before"
    rollouts.run(original["id"])
    response = client.post(f"{ROLLOUTS}/{original['id']}/rollback", headers=bearer("operator"))
    assert response.status_code == 201, response.text
    rollback = response.json()
    assert rollback["id"] != original["id"]
    assert rollback["rollback_of"] == original["id"]
    assert rollback["release_id"] == "r-before"
    assert rollback["size"] == 5
    shown = client.get(f"{ROLLOUTS}/{original['id']}", headers=bearer("viewer")).json()
    assert shown["state"] == "rolled_back"
    again = client.post(f"{ROLLOUTS}/{original['id']}/rollback", headers=bearer("operator"))
    assert "already rolled back" in _error(again, 409, "STK-1300")


# --- events --------------------------------------------------------------------------------


def test_events_follow_a_rollout_to_completion(client: TestClient, rollouts: FakeRollouts) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    rollouts.advance_on_read = True  # every poll of the stream moves the rollout a step
    events = _events(client, rollout_id)
    assert [int(e.id or 0) for e in events] == list(range(1, len(events) + 1))
    # the snapshot: the rollout, then every wave
    assert [e.event for e in events[:3]] == ["rollout", "wave", "wave"]
    assert events[0].json()["id"] == rollout_id
    assert [e.json()["name"] for e in events[1:3]] == ["canary", "rest"]
    assert events[1].json()["size"] == 1
    # the last event is the rollout's final state, with every tenant counted
    last = events[-1]
    assert last.event == "rollout"
    assert last.json()["state"] == "completed"
    assert last.json()["counts"]["succeeded"] == 5
    states = [e.json()["state"] for e in events if e.event == "rollout"]
    assert states == ["running", "completed"]
    tenant_events = [e.json() for e in events if e.event == "tenant"]
    finished = {t["tenant_id"] for t in tenant_events if t["status"] == "succeeded"}
    assert finished == {f"t-0{n}" for n in range(1, 6)}
    started = [t["tenant_id"] for t in tenant_events if t["status"] == "running"]
    assert sorted(started) == sorted(finished)  # each started once, and finished
    final_waves = {}
    for event in events:
        if event.event == "wave":
            final_waves[event.json()["name"]] = event.json()["counts"]
    assert final_waves["rest"]["succeeded"] == 4


def test_events_of_a_halted_rollout_end_with_the_reason(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    rollouts.failing = {"t-02"}
    rollouts.advance_on_read = True
    events = _events(client, rollout_id)
    failed = [e.json() for e in events if e.event == "tenant" and e.json()["status"] == "failed"]
    assert failed == [
        {
            "tenant_id": "t-02",
            "wave": 0,
            "status": "failed",
            "error": "stack stockade-baseline failed in t-02",
            "attempts": 1,
        }
    ]
    assert events[-1].event == "rollout"
    assert events[-1].json()["state"] == "halted"
    assert events[-1].json()["halt_reason"] == "wave canary: 1 of 1 tenant(s) failed"


def test_events_of_a_settled_rollout_are_one_snapshot(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    rollout_id = _apply(client)["rollout"]["id"]
    rollouts.run(rollout_id)
    reads = rollouts.reads
    events = _events(client, rollout_id)
    assert [e.event for e in events] == ["rollout", "wave", "wave"] + ["tenant"] * 5
    assert events[0].json()["state"] == "completed"
    assert rollouts.reads == reads + 1  # read once; no polling of a settled rollout


def test_events_route_is_documented_as_an_event_stream(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    responses = schema["paths"]["/api/v1/rollouts/{rollout_id}/events"]["get"]["responses"]
    assert "text/event-stream" in responses["200"]["content"]
    assert "404" in responses
    assert "409" in schema["paths"]["/api/v1/rollouts"]["post"]["responses"]


# --- the stream itself, without HTTP -------------------------------------------------------


class _Readings:
    """Serves the given readings of a rollout, one per ``read``, then raises ``NotFoundError``."""

    def __init__(self, readings: list[Rollout]) -> None:
        self.readings: Iterator[Rollout] = iter(readings)

    async def read(self) -> Rollout:
        for rollout in self.readings:
            return rollout
        raise NotFoundError("rollout 'ro-0001' does not exist", hint="it was deleted")


def _collect(stream: AsyncIterator[str]) -> list[str]:
    async def run() -> list[str]:
        return [chunk async for chunk in stream]

    return asyncio.run(run())


def _readings(rollouts: FakeRollouts, client: TestClient) -> list[Rollout]:
    rollout_id = _apply(client)["rollout"]["id"]
    readings = [rollouts.get_rollout(rollout_id)]
    rollouts.step()  # running
    readings += [rollouts.get_rollout(rollout_id)] * 3  # three polls without a change
    readings.append(rollouts.run(rollout_id))
    return readings


def test_stream_sends_keep_alives_while_nothing_changes(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    first, *rest = _readings(rollouts, client)
    ticks = iter(range(0, 1000, 10))  # ten seconds pass between two looks at the clock
    chunks = _collect(
        rollout_stream(
            first,
            _Readings(rest).read,
            poll_interval=0.0,
            keepalive=15.0,
            clock=lambda: float(next(ticks)),
        )
    )
    assert ": keep-alive\n\n" in chunks
    events = list(parse_sse("".join(chunks).splitlines()))
    assert events[-1].json()["state"] == "completed"


def test_stream_sends_no_keep_alive_within_15_seconds(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    first, *rest = _readings(rollouts, client)
    chunks = _collect(rollout_stream(first, _Readings(rest).read, poll_interval=0.0))
    assert ": keep-alive\n\n" not in chunks  # the real clock: far from 15 s


def test_stream_ends_with_an_error_event_when_a_reading_fails(
    client: TestClient, rollouts: FakeRollouts
) -> None:
    first = _readings(rollouts, client)[1]  # running
    chunks = _collect(rollout_stream(first, _Readings([]).read, poll_interval=0.0))
    events = list(parse_sse("".join(chunks).splitlines()))
    assert events[-1].event == "error"
    assert events[-1].json() == {
        "code": "STK-1200",
        "message": "rollout 'ro-0001' does not exist",
        "hint": "it was deleted",
    }
