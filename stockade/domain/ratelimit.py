"""Token-bucket arithmetic, shared by the engine's rate budgets and the sandbox's enforcement.

Pure: the caller supplies the clock reading, so the same math can block (``cloud.budget``) or
refuse (``cloud.sandbox.hooks``), and tests can drive time by hand.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; starts full at time ``last``."""

    rate: float
    burst: float
    tokens: float
    last: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate=rate, burst=burst, tokens=burst, last=now)

    def _refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now

    def try_take(self, now: float) -> bool:
        """Take one token if there is one; never waits."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def reserve(self, now: float) -> float:
        """Take one token, possibly on credit; return how long the caller must wait for it.

        Reservations queue fairly: each caller waits for its own token, in call order.
        """
        self._refill(now)
        self.tokens -= 1.0
        if self.tokens >= 0.0:
            return 0.0
        return -self.tokens / self.rate
