"""Client-side rate budgets: every AWS call waits for a token before it is sent.

Built from ``domain.quotas`` (times a safety factor, times the sandbox's time scale), so Stockade
calls each API no faster than AWS allows and never retries into throttling. In-flight caps
(CreateAccount's 5 concurrent creations) are the engine's job, with a DBOS queue.

Who calls it: ``cloud.aws.session`` installs ``RateBudget.wait`` on every client's
``before-call`` event; the server composition root builds one ``RateBudget`` per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from stockade.domain.quotas import QuotaTable
from stockade.domain.ratelimit import TokenBucket


class RateBudget:
    """Thread-safe blocking token buckets, one per (account, service, operation).

    ``safety`` is the share of AWS's sustained rate used; ``skew`` (seconds) is added to the
    interval between two tokens, so calls that leave a little late never bunch up at AWS.
    """

    def __init__(
        self,
        quotas: QuotaTable,
        *,
        safety: float = 0.95,
        skew: float = 0.01,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0.0 < safety <= 1.0:
            raise ValueError("safety must be in (0, 1]")
        self._quotas = quotas
        self._safety = safety
        self._skew = skew
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self.waited_seconds = 0.0
        self.calls = 0

    def wait(self, *, account: str, service: str, operation: str) -> float:
        """Block until a call may be sent; return the seconds waited."""
        key = (account, service, operation)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                quota = self._quotas.get(service, operation)
                # each token comes ``skew`` seconds later than the safe rate alone would
                # allow: that absorbs the delay between reserving here and the request
                # reaching AWS, which varies from call to call
                interval = 1.0 / (quota.rate * self._safety) + self._skew
                bucket = TokenBucket.full(1.0 / interval, float(quota.burst), now)
                self._buckets[key] = bucket
            delay = bucket.reserve(now)
            self.calls += 1
            self.waited_seconds += delay
        if delay > 0:
            self._sleep(delay)
        return delay
