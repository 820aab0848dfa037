"""How long stack operations take, learned while a rollout runs, so waiting costs few calls.

CloudFormation has no push notification Stockade can rely on in every account, so the engine
polls DescribeStacks. Polling every few seconds wastes a slot per stack for up to a poll
interval after the stack finished; polling fast costs API calls (and DescribeStacks is
rate-limited per account). Stacks of one service take about the same time in every account,
so ``StackDurations`` remembers the recent durations per kind of operation and the engine first
sleeps until just before the shortest of them, then polls at a short interval (a tenth of
it, within bounds). With nothing learned yet it polls at the configured interval.

Thread-safe; one instance per wave run (injected, never global).

Who calls it: ``engine.tenant_deploy`` (waiting for a stack it changed).
"""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["StackDurations"]


class StackDurations:
    def __init__(
        self,
        *,
        default_poll: float,
        min_poll: float = 0.05,
        window: int = 32,
        lead: float = 0.97,
    ) -> None:
        self._default_poll = default_poll
        self._min_poll = min_poll
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

    def first_wait(self, kind: str) -> float:
        """Seconds to sleep before the first poll: just under the shortest recent duration."""
        with self._lock:
            recent = self._seen.get(kind)
            return min(recent) * self._lead if recent else 0.0

    def poll_interval(self, kind: str) -> float:
        """Seconds between polls once the first wait is over."""
        with self._lock:
            recent = self._seen.get(kind)
            if not recent:
                return self._default_poll
            return max(self._min_poll, min(self._default_poll, min(recent) / 10))
