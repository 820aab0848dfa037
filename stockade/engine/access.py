"""The access broker: short-lived credentials for people in tenant accounts, and break-glass
requests with a second person's approval.

``AccessBroker.issue`` checks that the caller's API role may get the level
(``domain.access.check_level_allowed``), that the tenant has an account people may enter
(active or suspended), the reason and the duration (15 minutes .. 1 hour, never clamped), and
for break-glass access an approved request of the caller's own for that tenant; then it assumes
the baseline's role for the level (``spec.organization.access_roles``) through the
``SessionIssuer`` port with the caller's name as session name and source identity and the
tenant and reason as session tags, and audits ``access.issue`` (who, tenant, level, role,
reason, expiry, access key id: never the secret or the session token). A break-glass request
is marked ``used`` in the same transaction as that audit event, so it gives credentials once.
Credentials are returned, never stored or logged; if the audit fails they are dropped.

Requests, approvals and denials go through ``store.access_requests`` (one transaction each,
the domain's state machine deciding). Who calls it: the API (``api.access_routes``, through
``engine.facade.AccessOperations``); ``server.control`` builds one per control plane.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stockade.cloud.ports import IssuedCredentials, SessionIssuer
from stockade.domain.access import (
    DEFAULT_DURATION,
    DEFAULT_REQUEST_WINDOW,
    LEVEL_ROLES,
    AccessLevel,
    AccessRequest,
    RequestState,
    check_duration,
    check_level_allowed,
    clean_reason,
    new_request,
    profile_name,
    session_name,
    session_tags,
)
from stockade.domain.errors import (
    AccessUnavailableError,
    ApprovalRequiredError,
    ValidationError,
)
from stockade.domain.spec import AccessRoles
from stockade.domain.tenant import Tenant, TenantState
from stockade.store.access_requests import AccessRequestRepository
from stockade.store.audit import AuditLog

__all__ = ["AccessAsk", "AccessBroker", "AccessProfile", "AccessProfiles", "IssuedAccess"]

#: tenants people may be given access to: the account is settled (suspended: to investigate)
ACCESSIBLE_STATES = frozenset({TenantState.ACTIVE, TenantState.SUSPENDED})


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_request_id() -> str:
    return "ar-" + secrets.token_hex(6)


@dataclass(frozen=True)
class AccessAsk:
    """Who wants which access to which tenant, and why."""

    tenant_id: str
    level: AccessLevel
    reason: str
    #: the caller's name (the API principal) and API role
    actor: str
    api_role: str
    #: None: the default (one hour; break-glass: the duration that was approved)
    duration_seconds: int | None = None
    #: the approved break-glass request (break-glass only)
    request_id: str | None = None


@dataclass(frozen=True)
class IssuedAccess:
    """Credentials just issued, and what they are for."""

    tenant_id: str
    account_id: str
    level: AccessLevel
    role_name: str
    session_name: str
    credentials: IssuedCredentials
    request_id: str | None = None


@dataclass(frozen=True)
class AccessProfile:
    tenant_id: str
    account_id: str
    level: AccessLevel
    #: the ``~/.aws/config`` profile name (``stockade-<tenant>-<level>``)
    name: str


@dataclass(frozen=True)
class AccessProfiles:
    region: str
    items: tuple[AccessProfile, ...]


class AccessBroker:
    """Issues people's credentials and runs break-glass requests (``AccessOperations``)."""

    def __init__(
        self,
        *,
        tenant: Callable[[str], Tenant],
        roles: AccessRoles,
        region: str,
        sessions: SessionIssuer,
        requests: AccessRequestRepository,
        audit: AuditLog,
        window: timedelta = DEFAULT_REQUEST_WINDOW,
        clock: Callable[[], datetime] = _utcnow,
        new_id: Callable[[], str] = _new_request_id,
    ) -> None:
        self._tenant = tenant
        self._roles = roles
        self.region = region
        self._sessions = sessions
        self._requests = requests
        self._audit = audit
        self._window = window
        self._clock = clock
        self._new_id = new_id

    # -- credentials -----------------------------------------------------------------------

    def issue(self, ask: AccessAsk) -> IssuedAccess:
        """Credentials for ``ask`` (see the module docstring for every check), audited."""
        check_level_allowed(ask.level, ask.api_role)
        reason = clean_reason(ask.reason)
        tenant, account_id = self._accessible(ask.tenant_id)
        duration = self._duration(ask, tenant.tenant_id)
        name = session_name(ask.actor)
        role_name = self.role_name(ask.level)
        credentials = self._sessions.issue_session(
            account_id=account_id,
            role_name=role_name,
            session_name=name,
            source_identity=name,
            tags=session_tags(tenant.tenant_id, reason, ask.request_id),
            duration_seconds=duration,
        )
        details: dict[str, object] = {
            "level": ask.level.value,
            "role_name": role_name,
            "account_id": account_id,
            "reason": reason,
            "duration_seconds": duration,
            "expiration": credentials.expiration.isoformat(),
            "access_key_id": credentials.access_key_id,
            "session_name": name,
            "request": ask.request_id,
        }
        if ask.request_id is None:
            self._audit.append(ask.actor, "access.issue", tenant.tenant_id, details)
        else:  # used once: the use and its audit event commit together, or neither does
            now = self._clock()
            self._requests.transition(
                ask.request_id,
                lambda request: request.use(user=ask.actor, tenant_id=tenant.tenant_id, now=now),
                now=now,
                actor=ask.actor,
                action="access.issue",
                subject=tenant.tenant_id,
                details=details,
            )
        return IssuedAccess(
            tenant_id=tenant.tenant_id,
            account_id=account_id,
            level=ask.level,
            role_name=role_name,
            session_name=name,
            credentials=credentials,
            request_id=ask.request_id,
        )

    def role_name(self, level: AccessLevel) -> str:
        """The baseline role of ``level`` in every tenant account."""
        name: str = getattr(self._roles, level.value)
        return name

    def _accessible(self, tenant_id: str) -> tuple[Tenant, str]:
        """The tenant and its account, if people may be given access to it."""
        tenant = self._tenant(tenant_id)
        if tenant.state not in ACCESSIBLE_STATES or tenant.account_id is None:
            raise AccessUnavailableError(
                f"tenant {tenant_id!r} is {tenant.state.value}"
                + ("" if tenant.account_id else " and has no account yet")
                + ": no access to give",
                hint="access is for active and suspended tenants; see stockade tenant show "
                + tenant_id,
            )
        return tenant, tenant.account_id

    def _duration(self, ask: AccessAsk, tenant_id: str) -> int:
        """The session's duration; for break-glass, checks the request before any AWS call."""
        if ask.level is not AccessLevel.BREAKGLASS:
            if ask.request_id is not None:
                raise ValidationError(
                    "an access request is only for breakglass access",
                    hint="leave out the request for readonly and operator access",
                )
            return check_duration(ask.duration_seconds or DEFAULT_DURATION)
        if ask.request_id is None:
            raise ApprovalRequiredError(
                "breakglass access needs an approved request",
                hint=f"ask: stockade access request {tenant_id} --reason ...; once another "
                "person approved it: stockade access "
                f"{tenant_id} --role breakglass --request ID --reason ...",
            )
        request = self._requests.get(ask.request_id)
        now = self._clock()
        if request.due_to_expire(now):
            self._requests.expire_due(now)  # recorded, then refused below
        request.check_usable(user=ask.actor, tenant_id=tenant_id, now=now)
        if ask.duration_seconds is None:
            return request.duration_seconds
        if check_duration(ask.duration_seconds) > request.duration_seconds:
            raise ValidationError(
                f"duration_seconds {ask.duration_seconds} is longer than the "
                f"{request.duration_seconds} s approved for {request.request_id}",
                hint="ask for at most the approved duration, or leave it out",
            )
        return ask.duration_seconds

    def profiles(
        self, tenants: Iterable[Tenant], *, api_role: str, level: AccessLevel | None = None
    ) -> AccessProfiles:
        """A profile per active tenant with an account, for ``level`` (None: every level the
        caller may get without approval)."""
        if level is AccessLevel.BREAKGLASS:
            raise ValidationError(
                "breakglass access has no profile: each use needs its own approved request",
                hint="use stockade access TENANT --role breakglass --request ID --reason ...",
            )
        if level is not None:
            check_level_allowed(level, api_role)
        levels = (
            [level]
            if level is not None
            else [
                lvl
                for lvl in (AccessLevel.READONLY, AccessLevel.OPERATOR)
                if api_role in LEVEL_ROLES[lvl]
            ]
        )
        items = tuple(
            AccessProfile(t.tenant_id, t.account_id, lvl, profile_name(t.tenant_id, lvl))
            for t in tenants
            if t.state is TenantState.ACTIVE and t.account_id is not None
            for lvl in levels
        )
        return AccessProfiles(region=self.region, items=items)

    # -- break-glass requests --------------------------------------------------------------

    def request(
        self,
        *,
        tenant_id: str,
        reason: str,
        actor: str,
        api_role: str,
        duration_seconds: int | None = None,
    ) -> AccessRequest:
        """A pending break-glass request (audited), to be approved within the window."""
        check_level_allowed(AccessLevel.BREAKGLASS, api_role)
        tenant, _account = self._accessible(tenant_id)
        return self._requests.create(
            new_request(
                request_id=self._new_id(),
                tenant_id=tenant.tenant_id,
                requester=actor,
                reason=reason,
                duration_seconds=duration_seconds or DEFAULT_DURATION,
                now=self._clock(),
                window=self._window,
            )
        )

    def list_requests(
        self,
        *,
        state: RequestState | None = None,
        tenants: Iterable[str] | None = None,
        limit: int = 100,
    ) -> builtins.list[AccessRequest]:
        """Newest first; requests past their deadline are recorded as expired first."""
        self._requests.expire_due(self._clock())
        return self._requests.list(state=state, tenants=tenants, limit=limit)

    def get_request(self, request_id: str) -> AccessRequest:
        return self._requests.get(request_id)

    def approve(self, request_id: str, *, actor: str, api_role: str) -> AccessRequest:
        """Approve (never one's own request); usable once within the window from now."""
        now = self._clock()
        return self._requests.transition(
            request_id,
            lambda r: r.approve(
                approver=actor, approver_role=api_role, now=now, window=self._window
            ),
            now=now,
            actor=actor,
            action="access.approve",
        )

    def deny(self, request_id: str, *, actor: str, api_role: str, reason: str) -> AccessRequest:
        now = self._clock()
        return self._requests.transition(
            request_id,
            lambda r: r.deny(approver=actor, approver_role=api_role, reason=reason, now=now),
            now=now,
            actor=actor,
            action="access.deny",
        )
