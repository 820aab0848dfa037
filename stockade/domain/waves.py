"""Wave planning, failure tolerance and jitter for fleet rollouts: pure, deterministic functions.

A rollout applies a plan in the spec's waves (``rollout.waves``). ``plan_waves`` puts every
tenant in exactly one wave:

- a **selector** wave (a canary) takes the not-yet-assigned tenants whose labels match every
  key/value of its selector;
- a **percent** wave is *cumulative over the whole fleet*: ``percent: 10`` then ``50`` then
  ``100`` means that after each wave 10 %, 50 %, 100 % of all tenants (canaries included) have
  been reached; the wave takes ``ceil(percent * fleet / 100)`` minus what earlier waves took
  (never fewer than none), from the tenants no earlier wave took.

Tenants are taken in a stable order: the sha256 of the tenant id (optionally salted with
``seed``). The same fleet always gives the same waves, whatever order the input lists it in,
and a tenant joining the fleet does not reshuffle the others. **Empty waves are dropped**
(a canary selector nobody matches, or a percent already reached by earlier waves), so a rollout
never waits on a wave with nothing in it; ``WavePlan.index`` keeps the wave's position in the
spec for display.

``tolerance_exceeded`` decides whether a wave's failures halt the rollout (a count, or a
percent such as ``"10%"`` of the wave's size); ``parse_tolerance`` validates the spec's
``failure_tolerance`` (``domain.spec.Wave`` calls it). ``jitter_delay`` spreads operations
over time deterministically, so the fleet never does the same thing at the same moment.

Who calls it: the engine's rollout workflow (waves, halting, jitter), the API and CLI (showing
a rollout's waves before it starts), ``domain.spec`` (validating ``failure_tolerance``).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from stockade.domain.errors import ValidationError

if TYPE_CHECKING:
    from stockade.domain.spec import Wave

__all__ = [
    "Tolerance",
    "WavePlan",
    "WaveTenant",
    "jitter_delay",
    "parse_tolerance",
    "plan_waves",
    "tolerance_exceeded",
]

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_COUNT = re.compile(r"^\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class WaveTenant:
    """A tenant as wave planning sees it: its id and its labels."""

    id: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WavePlan:
    """One non-empty wave: which tenants, in which order, and the wave's limits."""

    name: str
    #: the wave's position in the spec's ``rollout.waves`` (empty waves are dropped)
    index: int
    tenant_ids: tuple[str, ...]
    max_concurrency: int
    failure_tolerance: int | str

    @property
    def size(self) -> int:
        return len(self.tenant_ids)

    def tolerance_exceeded(self, failures: int) -> bool:
        """Whether ``failures`` failed deployments in this wave must halt the rollout."""
        return tolerance_exceeded(failures, self.size, self.failure_tolerance)


def _order_key(tenant_id: str, seed: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{tenant_id}".encode()).digest()


def _cumulative_target(percent: float, fleet: int) -> int:
    # decimal-exact, so 10 % of 30 is 3 and not 4 because of binary floating point
    return min(fleet, math.ceil(Fraction(str(percent)) * fleet / 100))


def plan_waves(
    tenants: Sequence[WaveTenant], waves: Sequence[Wave], *, seed: str = ""
) -> list[WavePlan]:
    """Assign every tenant to exactly one wave (see the module docstring for the rules).

    Raises ``ValidationError`` if a tenant id appears twice, or if tenants are left over
    because no wave reaches 100 % (the spec's ``Rollout`` refuses such waves).
    """
    counts = Counter(tenant.id for tenant in tenants)
    if len(counts) != len(tenants):
        duplicate = next(tenant_id for tenant_id, n in counts.items() if n > 1)
        raise ValidationError(f"tenant {duplicate!r} appears twice in the rollout")
    ordered = sorted(tenants, key=lambda t: (_order_key(t.id, seed), t.id))
    fleet = len(ordered)
    remaining = ordered
    assigned = 0
    plans: list[WavePlan] = []
    for index, wave in enumerate(waves):
        if wave.selector:
            selector = wave.selector.items()
            taken = [t for t in remaining if all(t.labels.get(k) == v for k, v in selector)]
            if taken:
                chosen = {t.id for t in taken}
                remaining = [t for t in remaining if t.id not in chosen]
        elif wave.percent is not None:
            count = max(0, _cumulative_target(wave.percent, fleet) - assigned)
            taken, remaining = remaining[:count], remaining[count:]
        else:
            raise ValidationError(f"wave {wave.name!r} has neither a percent nor a selector")
        assigned += len(taken)
        if taken:
            plans.append(
                WavePlan(
                    name=wave.name,
                    index=index,
                    tenant_ids=tuple(t.id for t in taken),
                    max_concurrency=wave.max_concurrency,
                    failure_tolerance=wave.failure_tolerance,
                )
            )
    if remaining:
        raise ValidationError(
            f"{len(remaining)} tenant(s) are in no wave, e.g. {remaining[0].id!r}",
            hint="end rollout.waves with a wave of percent: 100",
        )
    return plans


@dataclass(frozen=True, slots=True)
class Tolerance:
    """A parsed failure tolerance: a count of failures, or a percent of the wave's size."""

    count: int | None = None
    percent: Fraction | None = None

    def allowed(self, size: int) -> Fraction:
        """How many failures a wave of ``size`` tenants tolerates (may be fractional)."""
        if self.percent is not None:
            return self.percent * size / 100
        return Fraction(self.count or 0)


def parse_tolerance(value: int | str) -> Tolerance:
    """Parse ``3``, ``"3"`` or ``"10%"`` / ``"2.5%"``; raise ``ValueError`` saying what is valid."""
    if isinstance(value, bool):
        raise ValueError("failure_tolerance must be a count such as 2 or a percent such as '5%'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"failure_tolerance must not be negative, got {value}")
        return Tolerance(count=value)
    if match := _COUNT.match(value):
        return Tolerance(count=int(match.group(1)))
    if match := _PERCENT.match(value):
        percent = Fraction(match.group(1))
        if percent > 100:
            raise ValueError(f"failure_tolerance {value!r} is more than 100%")
        return Tolerance(percent=percent)
    raise ValueError(
        f"failure_tolerance {value!r} is neither a count such as 2 nor a percent such as '5%'"
    )


def tolerance_exceeded(failures: int, size: int, tolerance: int | str) -> bool:
    """True when ``failures`` out of a wave of ``size`` is more than ``tolerance`` allows.

    A count tolerates that many failures (``0``: the first failure halts). A percent tolerates
    up to that share of the wave: ``"10%"`` of 50 tenants tolerates 5 failures, the 6th halts;
    ``"2%"`` of 10 tenants tolerates none (0.2 of a failure).
    """
    if failures < 0 or size < 0:
        raise ValueError("failures and size must not be negative")
    return failures > parse_tolerance(tolerance).allowed(size)


def jitter_delay(tenant_id: str, rollout_id: str, max_seconds: float) -> float:
    """A delay in ``[0, max_seconds)`` for this tenant in this rollout, the same every time.

    Hash-based, so a restarted rollout waits the same delays, while different rollouts spread
    the same tenant differently.
    """
    if not math.isfinite(max_seconds) or max_seconds < 0:
        raise ValueError(
            f"max_seconds must be a finite number of seconds, zero or more, got {max_seconds}"
        )
    if max_seconds == 0:
        return 0.0
    digest = hashlib.sha256(f"jitter\0{rollout_id}\0{tenant_id}".encode()).digest()
    unit = int.from_bytes(digest[:7], "big") / float(1 << 56)  # 56 bits: exact in a float
    return min(unit * max_seconds, math.nextafter(max_seconds, 0.0))
