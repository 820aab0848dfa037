"""How long stack operations take, learned while a rollout runs, so waiting costs few calls.

CloudFormation has no push notification Stockade can rely on in every account, so the engine
polls DescribeStacks. Polling every few seconds wastes a slot per stack for up to a poll
interval after the stack finished; polling fast costs API calls (and DescribeStacks is
rate-limited per account). Stacks of one service take about the same time in every account,
so ``StackDurations`` remembers the recent durations per kind of operation and the engine first
sleeps until just before the shortest of them, then polls at a short interval (a 25th of
it, within bounds), growing by half each time. With nothing learned yet it polls from a
short interval growing by half each time up to the configured one.

Thread-safe; one instance per wave run (injected, never global).

Who calls it: ``engine.tenant_deploy`` (waiting for a stack it changed).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["PollPlan", "StackDurations"]

#: each poll interval is this much longer than the last
BACKOFF = 1.5


@dataclass(frozen=True)
class PollPlan:
    #: sleep this long before the first poll
    first_wait: float
    #: then poll at this interval, times ``BACKOFF`` each time, up to ``max_interval``
    interval: float
    max_interval: float
    backoff: float = BACKOFF


class StackDurations:
    def __init__(
        self,
        *,
        default_poll: float,
        min_poll: float = 0.05,
        start_poll: float = 0.25,
        window: int = 32,
        lead: float = 0.98,
    ) -> None:
        self._default_poll = default_poll
        self._min_poll = min_poll
        self._start_poll = start_poll
        self._window = window
        self._lead = lead
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def observe(self, kind: str, seconds: float) -> None:
        """Record that an operation of ``kind`` took ``seconds`` (as polled: an upper bound)."""
        if seconds < 0:
            return
        with self._lock:
            recent = self._seen.get(kind)
            if recent is None:
                recent = self._seen[kind] = deque(maxlen=self._window)
            recent.append(seconds)

    def plan(self, kind: str) -> PollPlan:
        """How to wait for an operation of ``kind``: first just under the shortest recent
        duration, then briefly; with nothing learned, from a short interval upwards."""
        with self._lock:
            recent = self._seen.get(kind)
            shortest = min(recent) if recent else None
        if shortest is None:
            return PollPlan(
                first_wait=0.0,
                interval=min(self._start_poll, self._default_poll),
                max_interval=self._default_poll,
            )
        return PollPlan(
            first_wait=shortest * self._lead,
            interval=max(self._min_poll, min(self._default_poll, shortest / 25)),
            max_interval=self._default_poll,
        )
