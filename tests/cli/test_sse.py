"""``parse_sse`` and ``RolloutView``: reading the API's event stream the way the CLI does."""

from __future__ import annotations

from stockade.cli.progress import RolloutView
from stockade.cli.sse import SseEvent, parse_sse
from stockade.cli.states import RolloutStateName

STREAM = """\
: keep-alive

id: 1
event: rollout
data: {"id": "ro-1", "state": "running", "halt_reason": null}

data: first line
data: second line

id: 2
event: wave
: a comment inside an event
data: {"index": 0, "name": "canary", "size": 2,
data:  "counts": {"succeeded": 1, "failed": 1}}

id: 3
event: rollout
data: {"id": "ro-1", "state": "halted"
"""


def test_events_comments_multi_line_data_and_a_cut_last_event() -> None:
    events = list(parse_sse(STREAM.splitlines()))
    assert [(e.id, e.event) for e in events] == [("1", "rollout"), ("1", "message"), ("2", "wave")]
    assert events[1].data == "first line\nsecond line"
    assert events[1].json() == {}  # not JSON
    assert events[2].json()["counts"] == {"succeeded": 1, "failed": 1}
    # the last event has no blank line after it: the stream was cut, it is dropped


def test_view_follows_rollout_and_wave_events() -> None:
    view = RolloutView.of({"id": "ro-1", "state": "pending", "halt_reason": None, "waves": []})
    for event in parse_sse(STREAM.splitlines()):
        assert view.apply(event)
    assert view.state is RolloutStateName.RUNNING
    assert not view.settled
    wave = view.waves[0]
    assert (wave.name, wave.size, wave.done) == ("canary", 2, 2)
    halted = SseEvent("rollout", '{"id": "ro-1", "state": "halted", "halt_reason": "stop"}')
    assert view.apply(halted)
    assert view.settled
    assert view.halt_reason == "stop"


def test_view_ignores_unknown_events_and_stops_at_errors() -> None:
    view = RolloutView.of({"id": "ro-1", "state": "running"})
    assert view.apply(SseEvent("progress-v2", '{"anything": 1}'))
    assert view.apply(SseEvent("tenant", '{"tenant_id": "a", "status": "running"}'))
    assert not view.apply(SseEvent("error", '{"code": "STK-1200", "message": "gone"}'))
    assert view.state is RolloutStateName.RUNNING
