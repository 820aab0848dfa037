"""The access broker's rules: levels, who may get them, durations, STS names and tags, and the
break-glass request state machine. Pure: no I/O, the clock is always passed in.

- ``AccessLevel``: ``readonly``, ``operator``, ``breakglass`` (the baseline roles named by
  ``spec.organization.access_roles``); ``check_level_allowed`` says which API roles may get which
  level (break-glass also needs an approved request).
- ``parse_duration`` / ``check_duration``: ``30m``, ``1h``, ``900s``, ``45`` (a bare number is
  minutes), within STS's 15 minutes .. 1 hour for a chained role; out of range is an error
  naming the option, never clamped.
- ``session_name`` (RoleSessionName and SourceIdentity from a person's name), ``tag_value``
  and ``clean_reason``: what STS accepts, derived from what people type.
- ``AccessRequest``: one break-glass request, ``pending -> approved | denied | expired`` and
  ``approved -> used | expired``; every transition is a method that checks who may make it
  (never the requester approving their own request) and when (never after expiry).

Who calls it: ``engine.access`` (the broker), ``store.access_requests`` (rows to requests),
``api.access_schemas`` and ``cli.access`` (levels, durations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from stockade.domain.errors import (
    AccessNotAllowedError,
    AccessRequestClosedError,
    AccessRequestExpiredError,
    ApprovalRequiredError,
    SelfApprovalError,
    ValidationError,
)
from stockade.domain.quotas import STS_CHAINED_MAX_SESSION, STS_MIN_SESSION


class AccessLevel(StrEnum):
    READONLY = "readonly"
    OPERATOR = "operator"
    #: write access for emergencies: only through an approved request
    BREAKGLASS = "breakglass"


#: the API roles that may get each level (break-glass also needs an approved request)
LEVEL_ROLES: Final[dict[AccessLevel, frozenset[str]]] = {
    AccessLevel.READONLY: frozenset({"viewer", "operator", "admin"}),
    AccessLevel.OPERATOR: frozenset({"operator", "admin"}),
    AccessLevel.BREAKGLASS: frozenset({"operator", "admin"}),
}
#: the API roles that may approve or deny a break-glass request
APPROVER_ROLES: Final = frozenset({"approver"})
#: the session tags every issued session carries
TENANT_TAG: Final = "stockade:tenant"
REASON_TAG: Final = "stockade:reason"
REQUEST_TAG: Final = "stockade:request"
#: the longest reason kept (audit trail, request); the session tag keeps 256 characters of it
MAX_REASON = 500
MAX_TAG_VALUE = 256
#: how long a break-glass request waits for approval, and stays usable once approved
DEFAULT_REQUEST_WINDOW = timedelta(hours=1)
DEFAULT_DURATION = STS_CHAINED_MAX_SESSION

_DURATION = re.compile(r"(\d{1,7})([smh]?)", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "": 60}
#: what STS allows in RoleSessionName and SourceIdentity (ASCII ``\w``), 2..64 characters
_NOT_SESSION_CHAR = re.compile(r"[^\w+=,.@-]", re.ASCII)
#: what STS allows in a session tag value: letters, digits, spaces and ``_ . : / = + - @``
_NOT_TAG_CHAR = re.compile(r"[^\w .:/=+@-]")
_SPACES = re.compile(r"\s+")


def check_level_allowed(level: AccessLevel, api_role: str) -> None:
    """Raise ``AccessNotAllowedError`` unless a caller with ``api_role`` may get ``level``."""
    allowed = LEVEL_ROLES[level]
    if api_role not in allowed:
        raise AccessNotAllowedError(
            f"an API token with role {api_role!r} may not get {level.value} access",
            hint=f"{level.value} access is for roles: " + ", ".join(sorted(allowed)),
        )


def _range_text() -> str:
    return (
        f"{STS_MIN_SESSION // 60}m..{STS_CHAINED_MAX_SESSION // 3600}h "
        f"({STS_MIN_SESSION}..{STS_CHAINED_MAX_SESSION} s)"
    )


def check_duration(seconds: int, *, option: str = "duration_seconds") -> int:
    """``seconds`` if STS allows it for a chained role session, else ``ValidationError``."""
    if not STS_MIN_SESSION <= seconds <= STS_CHAINED_MAX_SESSION:
        raise ValidationError(
            f"{option} {seconds} s is out of range: allowed {_range_text()}",
            hint="STS issues at least 15 minutes, and caps sessions of chained roles at 1 hour",
        )
    return seconds


def parse_duration(text: str, *, option: str = "--duration") -> int:
    """``30m``, ``1h``, ``900s`` or ``45`` (a bare number is minutes) in seconds, within
    15 minutes .. 1 hour; ``ValidationError`` naming ``option`` otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValidationError(
            f"{option} {text!r} is not a duration",
            hint=f"write e.g. 30m, 1h or 900s (a bare number is minutes); allowed {_range_text()}",
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if not STS_MIN_SESSION <= seconds <= STS_CHAINED_MAX_SESSION:
        raise ValidationError(
            f"{option} {text!r} is out of range: allowed {_range_text()}",
            hint="STS issues at least 15 minutes, and caps sessions of chained roles at 1 hour"
            + (" (a bare number is minutes)" if not match.group(2) else ""),
        )
    return seconds


def format_duration(seconds: int) -> str:
    """``3600`` -> ``1h``, ``1800`` -> ``30m``, ``1000`` -> ``1000s``."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def session_name(name: str) -> str:
    """A person's name as STS's RoleSessionName and SourceIdentity: every character STS
    refuses becomes ``-``; 2..64 characters."""
    cleaned = _NOT_SESSION_CHAR.sub("-", name.strip())[:64]
    return cleaned.ljust(2, "-")


def clean_reason(reason: str, *, option: str = "reason") -> str:
    """The reason as recorded: whitespace collapsed, 1..``MAX_REASON`` characters."""
    cleaned = _SPACES.sub(" ", reason).strip()
    if not cleaned:
        raise ValidationError(
            f"{option} is required: say why you need access",
            hint="the reason is recorded in the audit trail and tagged on the AWS session",
        )
    if len(cleaned) > MAX_REASON:
        raise ValidationError(
            f"{option} is {len(cleaned)} characters long; at most {MAX_REASON}",
            hint="link to a ticket instead of pasting it",
        )
    return cleaned


def tag_value(text: str) -> str:
    """``text`` as a session tag value: characters STS refuses become ``_``; at most 256."""
    return _NOT_TAG_CHAR.sub("_", _SPACES.sub(" ", text).strip())[:MAX_TAG_VALUE]


def session_tags(tenant_id: str, reason: str, request_id: str | None = None) -> dict[str, str]:
    """The tags of a person's session: the tenant, the reason, and the break-glass request."""
    tags = {TENANT_TAG: tag_value(tenant_id), REASON_TAG: tag_value(reason)}
    if request_id is not None:
        tags[REQUEST_TAG] = tag_value(request_id)
    return tags


def profile_name(tenant_id: str, level: AccessLevel) -> str:
    """The ``~/.aws/config`` profile of a tenant and level."""
    return f"stockade-{tenant_id}-{level.value}"


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    USED = "used"


_DECIDED_HINT = "only a pending request can be approved or denied; see stockade access requests"
#: states a request can still leave (by a decision, a use, or expiry)
OPEN_STATES: Final = frozenset({RequestState.PENDING, RequestState.APPROVED})


@dataclass(frozen=True)
class AccessRequest:
    """A break-glass request. ``expires_at``: while pending, the approval deadline; once
    approved, the end of the window in which the requester may use it (once)."""

    request_id: str
    tenant_id: str
    requester: str
    reason: str
    duration_seconds: int
    state: RequestState
    created_at: datetime
    expires_at: datetime
    level: AccessLevel = AccessLevel.BREAKGLASS
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    used_at: datetime | None = None

    def due_to_expire(self, now: datetime) -> bool:
        return self.state in OPEN_STATES and now >= self.expires_at

    def expire(self) -> AccessRequest:
        return replace(self, state=RequestState.EXPIRED)

    def _check_open(self, now: datetime, wanted: RequestState, action: str, hint: str) -> None:
        if self.due_to_expire(now):
            raise AccessRequestExpiredError(
                f"access request {self.request_id} expired at {self.expires_at.isoformat()}",
                hint="ask again: stockade access request TENANT --reason ...",
            )
        if self.state is not wanted:
            raise AccessRequestClosedError(
                f"access request {self.request_id} is {self.state.value}: cannot {action} it",
                hint=hint,
            )

    @staticmethod
    def _check_decider(role: str, action: str) -> None:
        if role not in APPROVER_ROLES:
            raise AccessNotAllowedError(
                f"an API token with role {role!r} may not {action} access requests",
                hint="use a token with role: " + ", ".join(sorted(APPROVER_ROLES)),
            )

    def approve(
        self, *, approver: str, approver_role: str, now: datetime, window: timedelta
    ) -> AccessRequest:
        """Approved by ``approver`` (never the requester); usable for ``window`` from now."""
        self._check_decider(approver_role, "approve")
        if approver == self.requester:
            raise SelfApprovalError(
                f"{approver} requested {self.request_id} and cannot approve it",
                hint="break-glass access needs a second person: ask another approver",
            )
        self._check_open(now, RequestState.PENDING, "approve", _DECIDED_HINT)
        return replace(
            self,
            state=RequestState.APPROVED,
            decided_by=approver,
            decided_at=now,
            expires_at=now + window,
        )

    def deny(
        self, *, approver: str, approver_role: str, reason: str, now: datetime
    ) -> AccessRequest:
        """Denied by ``approver``, with a reason (pending requests only)."""
        self._check_decider(approver_role, "deny")
        cleaned = clean_reason(reason)
        self._check_open(now, RequestState.PENDING, "deny", _DECIDED_HINT)
        return replace(
            self,
            state=RequestState.DENIED,
            decided_by=approver,
            decided_at=now,
            decision_reason=cleaned,
        )

    def check_usable(self, *, user: str, tenant_id: str, now: datetime) -> None:
        """Raise unless ``user`` may use this request for ``tenant_id`` now."""
        if user != self.requester:
            raise AccessNotAllowedError(
                f"access request {self.request_id} belongs to {self.requester}",
                hint="only the person who asked may use an approved request",
            )
        if tenant_id != self.tenant_id:
            raise ValidationError(
                f"access request {self.request_id} is for tenant {self.tenant_id!r}, "
                f"not {tenant_id!r}",
                hint="name the tenant the request was approved for",
            )
        if self.state is RequestState.PENDING and not self.due_to_expire(now):
            raise ApprovalRequiredError(
                f"access request {self.request_id} is not approved yet",
                hint="an approver must run: stockade access approve " + self.request_id,
            )
        self._check_open(
            now, RequestState.APPROVED, "use", "an approved request gives access once: ask again"
        )

    def use(self, *, user: str, tenant_id: str, now: datetime) -> AccessRequest:
        """Used by the requester, once, while approved and not expired."""
        self.check_usable(user=user, tenant_id=tenant_id, now=now)
        return replace(self, state=RequestState.USED, used_at=now)


def new_request(
    *,
    request_id: str,
    tenant_id: str,
    requester: str,
    reason: str,
    duration_seconds: int,
    now: datetime,
    window: timedelta = DEFAULT_REQUEST_WINDOW,
) -> AccessRequest:
    """A pending break-glass request, to be approved within ``window``."""
    return AccessRequest(
        request_id=request_id,
        tenant_id=tenant_id,
        requester=requester,
        reason=clean_reason(reason),
        duration_seconds=check_duration(duration_seconds),
        state=RequestState.PENDING,
        created_at=now,
        expires_at=now + window,
    )
