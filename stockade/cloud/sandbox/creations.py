"""Asynchronous CreateAccount and injected creation failures, as AWS Organizations shows them.

moto finishes CreateAccount at once; AWS takes minutes and sometimes fails. This module keeps,
per CreateAccount request, when it becomes ready and how it ends, and renders the
``CreateAccountStatus`` shape AWS would return at a given wall-clock time. It also holds the
injected faults (an account-name glob, an AWS ``FailureReason``, how many times).

Pure bookkeeping: no WSGI, no moto, no clock of its own (the caller passes wall-clock times, the
journal's own times during replay). Who calls it: ``cloud.sandbox.organizations`` inside the
sandbox server process, under the server's request lock.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: CreateAccountStatus.FailureReason values from the AWS Organizations API reference
FAILURE_REASONS: frozenset[str] = frozenset(
    {
        "ACCOUNT_LIMIT_EXCEEDED",
        "EMAIL_ALREADY_EXISTS",
        "INVALID_ADDRESS",
        "INVALID_EMAIL",
        "CONCURRENT_ACCOUNT_MODIFICATION",
        "INTERNAL_FAILURE",
        "GOVCLOUD_ACCOUNT_ALREADY_EXISTS",
        "MISSING_BUSINESS_VALIDATION",
        "FAILED_BUSINESS_VALIDATION",
        "PENDING_BUSINESS_VALIDATION",
        "INVALID_IDENTITY_FOR_BUSINESS_VALIDATION",
        "UNKNOWN_BUSINESS_VALIDATION",
        "MISSING_PAYMENT_INSTRUMENT",
        "INVALID_PAYMENT_INSTRUMENT",
        "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED",
    }
)

STATES: tuple[str, ...] = ("IN_PROGRESS", "SUCCEEDED", "FAILED")


class FaultError(ValueError):
    """A fault request that cannot be accepted (unknown reason, bad count)."""


@dataclass
class Fault:
    """Fail CreateAccount for account names matching ``pattern``; ``remaining`` None = forever."""

    pattern: str
    reason: str
    remaining: int | None

    @classmethod
    def parse(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise FaultError("expected a JSON object")
        pattern = data.get("account_name")
        reason = data.get("reason")
        times = data.get("times", 1)
        if not isinstance(pattern, str) or not pattern:
            raise FaultError("account_name must be a non-empty glob")
        if reason not in FAILURE_REASONS:
            raise FaultError(f"reason must be one of {sorted(FAILURE_REASONS)}")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise FaultError("times must be a positive integer or null")
        if times is not None and times < 1:
            raise FaultError("times must be a positive integer or null")
        return cls(pattern, str(reason), times)

    def use(self) -> str:
        """Use the fault up once; return its failure reason."""
        if self.remaining is not None:
            self.remaining -= 1
        return self.reason


@dataclass(frozen=True)
class Creation:
    """One CreateAccount request as the sandbox will report it."""

    request_id: str
    owner: str  # the management account that asked
    account_name: str
    requested_at: float
    ready_at: float
    account_id: str | None  # None when the creation is doomed to fail
    failure_reason: str | None

    def in_progress(self, now: float) -> bool:
        return now < self.ready_at

    def state(self, now: float) -> str:
        if self.in_progress(now):
            return "IN_PROGRESS"
        return "FAILED" if self.failure_reason else "SUCCEEDED"

    def status(self, now: float) -> dict[str, Any]:
        """The ``CreateAccountStatus`` structure AWS returns at time ``now``."""
        body: dict[str, Any] = {
            "Id": self.request_id,
            "AccountName": self.account_name,
            "State": self.state(now),
            "RequestedTimestamp": self.requested_at,
        }
        if self.in_progress(now):
            return body
        body["CompletedTimestamp"] = self.ready_at
        if self.failure_reason:
            body["FailureReason"] = self.failure_reason
        elif self.account_id:
            body["AccountId"] = self.account_id
        return body


class AccountCreations:
    """Every CreateAccount request the sandbox has seen, plus the pending faults."""

    def __init__(self, *, delay: float) -> None:
        #: how long a creation stays IN_PROGRESS, in wall-clock seconds (already time-scaled)
        self.delay = delay
        self._by_id: dict[str, Creation] = {}
        self._pending_accounts: dict[str, Creation] = {}
        self._faults: list[Fault] = []
        #: e-mail addresses of accounts created (or being created): AWS refuses a second one
        self._emails: set[str] = set()

    def claim_email(self, email: str) -> bool:
        """Reserve ``email`` for a new account; False if an account already has it."""
        key = email.strip().lower()
        if key in self._emails:
            return False
        self._emails.add(key)
        return True

    def release_email(self, email: str) -> None:
        """Undo ``claim_email`` when the creation was refused outright."""
        self._emails.discard(email.strip().lower())

    def add_fault(self, fault: Fault) -> None:
        self._faults.append(fault)

    def fault_for(self, account_name: str) -> Fault | None:
        """The first pending fault whose glob matches ``account_name`` (not used up yet)."""
        for fault in self._faults:
            if fault.remaining != 0 and fnmatch.fnmatchcase(account_name, fault.pattern):
                return fault
        return None

    def record(
        self,
        *,
        request_id: str,
        owner: str,
        account_name: str,
        requested_at: float,
        account_id: str | None,
        failure_reason: str | None = None,
    ) -> Creation:
        creation = Creation(
            request_id=request_id,
            owner=owner,
            account_name=account_name,
            requested_at=requested_at,
            ready_at=requested_at + self.delay,
            account_id=account_id,
            failure_reason=failure_reason,
        )
        self._by_id[request_id] = creation
        if account_id:
            self._pending_accounts[account_id] = creation
        return creation

    def get(self, request_id: str) -> Creation | None:
        return self._by_id.get(request_id)

    def account_in_progress(self, account_id: str, now: float) -> bool:
        """True while the account's creation has not finished: AWS does not show it yet."""
        creation = self._pending_accounts.get(account_id)
        if creation is None:
            return False
        if creation.in_progress(now):
            return True
        del self._pending_accounts[account_id]  # finished for good: stop checking it
        return False

    def statuses(
        self, *, owner: str, now: float, states: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """The owner's creation statuses in request order, optionally only these states."""
        wanted = set(states) or set(STATES)
        result = []
        for creation in self._by_id.values():
            if creation.owner == owner and creation.state(now) in wanted:
                result.append(creation.status(now))
        return result
