"""The server-sent event stream of one rollout: what changed since the last poll, as SSE text.

``RolloutChanges`` remembers what a client was last told (the rollout's state and halt reason,
each wave's counts, each tenant's status and attempts) and turns the next reading of the
rollout into the events describing the difference; the first reading is a full snapshot (the
rollout, every wave, and every tenant that is no longer pending). ``rollout_stream`` polls a
reading function every ``poll_interval`` seconds and yields the events in the SSE wire format,
each with an increasing ``id:``; it sends a ``: keep-alive`` comment when nothing changed for
``keepalive`` seconds, and ends after the reading in which the rollout left ``pending`` and
``running`` (halted, completed, failed or rolled back). If a reading fails with a
``StockadeError``, it sends one ``event: error`` (the API's error fields) and ends, so the
client can fall back to polling.

Who calls it: ``stockade.api.rollout_routes`` (``GET /api/v1/rollouts/{rollout_id}/events``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import StrEnum
from typing import Final

import anyio
from pydantic import BaseModel

from stockade.api.rollout_schemas import RolloutEvent, TenantEvent, WaveEvent
from stockade.api.schemas import ErrorDetail
from stockade.domain.errors import StockadeError
from stockade.store.rollout_types import Rollout, RolloutState, TenantStatus

#: seconds without an event after which the stream sends a keep-alive comment
KEEPALIVE_SECONDS: Final = 15.0
#: states in which the stream keeps polling
LIVE_STATES: Final = frozenset({RolloutState.PENDING, RolloutState.RUNNING})
KEEPALIVE: Final = ": keep-alive\n\n"


class EventName(StrEnum):
    ROLLOUT = "rollout"
    WAVE = "wave"
    TENANT = "tenant"
    ERROR = "error"


Event = tuple[EventName, BaseModel]


def format_event(event_id: int, name: EventName, data: BaseModel) -> str:
    """One SSE message: ``id``, ``event`` and a one-line JSON ``data`` field."""
    return f"id: {event_id}\nevent: {name.value}\ndata: {data.model_dump_json()}\n\n"


class RolloutChanges:
    """What one client has been told about a rollout, and the events for a newer reading."""

    def __init__(self) -> None:
        self._rollout: tuple[RolloutState, str | None] | None = None
        self._waves: dict[int, dict[TenantStatus, int]] = {}
        self._tenants: dict[str, tuple[TenantStatus, int]] = {}

    def events(self, rollout: Rollout) -> list[Event]:
        """The events since the last call (all of them on the first call). Tenants come
        first and the rollout last, except in the first snapshot, which starts with it."""
        first = self._rollout is None
        events: list[Event] = []
        for tenant in rollout.tenants or ():
            seen = (tenant.status, tenant.attempts)
            before = self._tenants.get(tenant.tenant_id, (TenantStatus.PENDING, 0))
            if seen != before:
                self._tenants[tenant.tenant_id] = seen
                events.append((EventName.TENANT, TenantEvent.of(tenant)))
        waves: list[Event] = []
        for wave in rollout.waves:
            counts = dict(wave.counts)
            if self._waves.get(wave.index) != counts:
                self._waves[wave.index] = counts
                waves.append((EventName.WAVE, WaveEvent.of(wave)))
        current = (rollout.state, rollout.halt_reason)
        changed = current != self._rollout
        self._rollout = current
        head: list[Event] = [(EventName.ROLLOUT, RolloutEvent.of(rollout))] if changed else []
        if first:
            return head + waves + events
        return events + waves + head


async def rollout_stream(
    first: Rollout,
    read: Callable[[], Awaitable[Rollout]],
    *,
    poll_interval: float,
    keepalive: float = KEEPALIVE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[str]:
    """SSE text for ``first`` and then for every ``read()`` every ``poll_interval`` seconds,
    until the rollout is no longer pending or running (see the module docstring)."""
    changes = RolloutChanges()
    ids = itertools.count(1)
    rollout = first
    last_sent = clock()
    while True:
        events = changes.events(rollout)
        for name, data in events:
            yield format_event(next(ids), name, data)
        if events:
            last_sent = clock()
        elif clock() - last_sent >= keepalive:
            yield KEEPALIVE
            last_sent = clock()
        if rollout.state not in LIVE_STATES:
            return
        await anyio.sleep(poll_interval)
        try:
            rollout = await read()
        except StockadeError as exc:
            detail = ErrorDetail(code=exc.code, message=exc.message, hint=exc.hint)
            yield format_event(next(ids), EventName.ERROR, detail)
            return
