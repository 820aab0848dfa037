"""AWS's published quotas that Stockade budgets against, kept in one place.

Both sides read this table: the engine's rate budgets (so Stockade never calls faster than AWS
allows) and the sandbox's realism hooks (so the sandbox throttles exactly where AWS would). A time
scale keeps the shape of every quota while letting tests and demos run N times faster.

Who calls it: ``engine.budgets`` (rate budgets), ``cloud.sandbox.hooks`` (enforcement),
``bench/onboard.py`` (the quota bound), ``settings`` (configurable limits).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ApiQuota:
    """A token bucket (``rate`` per second, ``burst`` tokens) plus an optional in-flight cap."""

    service: str
    operation: str
    rate: float
    burst: int
    concurrent: int | None = None
    #: the error code AWS returns when the rate is exceeded
    throttle_code: str = "TooManyRequestsException"

    def scaled(self, time_scale: float) -> ApiQuota:
        """The same quota with time running ``time_scale`` times faster."""
        return replace(self, rate=self.rate * time_scale)


def _org(operation: str, rate: float, burst: int, concurrent: int | None = None) -> ApiQuota:
    return ApiQuota("organizations", operation, rate, burst, concurrent)


#: Organizations throttles with TooManyRequestsException; per-operation rates from AWS's
#: "Quotas for AWS Organizations" page (throttling limits for API requests).
ORGANIZATIONS_QUOTAS: tuple[ApiQuota, ...] = (
    _org("CreateAccount", 0.1, 3, concurrent=5),
    _org("DescribeCreateAccountStatus", 2.0, 3),
    _org("ListCreateAccountStatus", 2.0, 3),
    _org("CloseAccount", 0.05, 1, concurrent=3),
    _org("MoveAccount", 2.0, 3),
    _org("ListAccounts", 8.0, 12),
    _org("ListAccountsForParent", 8.0, 12),
    _org("ListParents", 5.0, 8),
    _org("ListRoots", 5.0, 8),
    _org("ListOrganizationalUnitsForParent", 5.0, 8),
    _org("CreateOrganizationalUnit", 2.0, 3),
    _org("CreateOrganization", 1.0, 1),
    _org("DescribeOrganization", 5.0, 8),
    _org("TagResource", 2.0, 3),
    _org("ListTagsForResource", 5.0, 8),
    _org("CreatePolicy", 2.0, 3),
    _org("AttachPolicy", 2.0, 3),
    _org("UpdatePolicy", 2.0, 3),
)

#: STS throttles with Throttling ("Rate exceeded"). AWS's "IAM and AWS STS quotas" page gives
#: STS a request rate of 600 per second per account and Region; AssumeRole is the call Stockade
#: makes once per tenant account it acts in (from the management account), so it is the one
#: that matters at fleet scale. The burst is a conservative guess (AWS does not publish one).
STS_QUOTAS: tuple[ApiQuota, ...] = (
    ApiQuota("sts", "AssumeRole", 600.0, 100, throttle_code="Throttling"),
)

#: IAM is a global service and throttles per account with token buckets whose sizes AWS does not
#: publish (its "IAM and AWS STS quotas" page lists none; the security blog "How to monitor and
#: query IAM resources at scale, part 2" describes per-API token buckets, several of which may
#: apply to one call, and says the rates cannot be raised). So these are Stockade's own,
#: conservative budget for the read calls of a credential scan, per tenant account and
#: operation: 10 calls per second with a burst of 20. A scan makes a handful of calls per
#: account (ListUsers, then per user ListAccessKeys and GetLoginProfile, per active key
#: GetAccessKeyLastUsed, ListMFADevices for console users, one GetAccountSummary), so the burst
#: covers an account with a few users at once; the fleet-wide rate comes from scanning many
#: accounts side by side, each with its own buckets, as AWS throttles each account separately.
IAM_QUOTAS: tuple[ApiQuota, ...] = tuple(
    ApiQuota("iam", operation, 10.0, 20, throttle_code="Throttling")
    for operation in (
        "ListUsers",
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
        "GetLoginProfile",
        "ListMFADevices",
        "GetAccountSummary",
    )
)

#: Default budget for any call not listed: generous, and the same on both sides.
DEFAULT_RATE = 20.0
DEFAULT_BURST = 40


@dataclass(frozen=True)
class QuotaTable:
    """All quotas, looked up by (service, operation)."""

    quotas: tuple[ApiQuota, ...] = ORGANIZATIONS_QUOTAS + STS_QUOTAS + IAM_QUOTAS
    #: time runs this many times faster for every quota, listed or default
    time_scale: float = 1.0

    def get(self, service: str, operation: str) -> ApiQuota:
        for quota in self.quotas:
            if quota.service == service and quota.operation == operation:
                return quota.scaled(self.time_scale)
        default = ApiQuota(
            service, operation, DEFAULT_RATE, DEFAULT_BURST, throttle_code="Throttling"
        )
        return default.scaled(self.time_scale)

    def scaled(self, time_scale: float) -> QuotaTable:
        return replace(self, time_scale=self.time_scale * time_scale)


DEFAULT_QUOTAS = QuotaTable()


@dataclass(frozen=True)
class OrganizationLimits:
    """Limits that differ between organizations; all configurable in the spec."""

    scp_max_chars: int = 5_120
    scp_max_per_target: int = 5
    ou_max_depth: int = 5
    #: CloseAccount per rolling 30 days: this share of member accounts, at least the floor
    close_share: float = 0.20
    close_floor: int = 250
    close_ceiling: int = 1_000


#: STS session bounds (seconds) and the role-chaining cap
STS_MIN_SESSION = 900
STS_MAX_SESSION = 43_200
STS_CHAINED_MAX_SESSION = 3_600


def create_account_bound(count: int, *, delay: float, quota: ApiQuota | None = None) -> float:
    """The least time AWS's CreateAccount quota allows for creating ``count`` accounts.

    Requests start as fast as the token bucket allows (``burst`` at once, then one every
    ``1/rate`` seconds), never with more than ``concurrent`` creations in flight, and each
    creation takes ``delay`` seconds. This is the bound a perfect client reaches.
    """
    if count <= 0:
        return 0.0
    q = quota or DEFAULT_QUOTAS.get("organizations", "CreateAccount")
    cap = q.concurrent or count
    tokens, token_time = float(q.burst), 0.0
    clock = 0.0  # start time of the previous creation: starts never go back in time
    in_flight: list[float] = []  # min-heap of completion times
    last_finish = 0.0
    for _ in range(count):
        if len(in_flight) >= cap:
            clock = max(clock, heapq.heappop(in_flight))
        available = min(float(q.burst), tokens + (clock - token_time) * q.rate)
        if available < 1.0:
            clock += (1.0 - available) / q.rate
            available = 1.0
        tokens, token_time = available - 1.0, clock
        heapq.heappush(in_flight, clock + delay)
        last_finish = max(last_finish, clock + delay)
    return last_finish


def ceil_div(a: int, b: int) -> int:
    return -(-a // b) if b else 0


def close_account_allowance(member_accounts: int, limits: OrganizationLimits) -> int:
    """How many accounts may be closed per rolling 30 days."""
    share = math.floor(member_accounts * limits.close_share)
    return min(limits.close_ceiling, max(limits.close_floor, share))
