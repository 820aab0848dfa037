"""Break-glass access requests: the ``access_requests`` table, each change audited with it.

Every change is one transaction holding the request's row lock: read the request, let the
domain decide (``domain.access.AccessRequest.approve`` / ``deny`` / ``use``: who may, and in
which state), write the new state and append the audit event. Two approvals of one request
cannot both succeed, and nothing is approved, denied or used after the request expired: a
change that finds the request past its deadline records the expiry instead (state ``expired``,
event ``access.request.expire``) and then fails with the domain's error. ``expire_due`` does the
same for every request past its deadline (before listing). Credentials never come here.

Who calls it: ``engine.access.AccessBroker``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockade.domain.access import (
    OPEN_STATES,
    AccessLevel,
    AccessRequest,
    RequestState,
)
from stockade.domain.errors import AccessRequestExpiredError, NotFoundError
from stockade.store.audit import AuditLog
from stockade.store.db import Database
from stockade.store.models import AccessRequestRow

#: the actor of events Stockade records on its own (expiry)
SYSTEM_ACTOR = "stockade"


def _to_request(row: AccessRequestRow) -> AccessRequest:
    return AccessRequest(
        request_id=row.id,
        tenant_id=row.tenant_id,
        level=AccessLevel(row.level),
        requester=row.requester,
        reason=row.reason,
        duration_seconds=row.duration_seconds,
        state=RequestState(row.state),
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
        used_at=row.used_at,
    )


def _write(row: AccessRequestRow, request: AccessRequest) -> None:
    row.state = request.state.value
    row.expires_at = request.expires_at
    row.decided_by = request.decided_by
    row.decided_at = request.decided_at
    row.decision_reason = request.decision_reason
    row.used_at = request.used_at


def audit_details(request: AccessRequest) -> dict[str, object]:
    """What the audit trail records of a request."""
    return {
        "tenant": request.tenant_id,
        "level": request.level.value,
        "requester": request.requester,
        "reason": request.reason,
        "duration_seconds": request.duration_seconds,
        "state": request.state.value,
        "expires_at": request.expires_at.isoformat(),
        "decided_by": request.decided_by,
        "decision_reason": request.decision_reason,
    }


def not_found(request_id: str) -> NotFoundError:
    return NotFoundError(
        f"access request {request_id!r} does not exist",
        hint="list requests with `stockade access requests`",
    )


class AccessRequestRepository:
    """The ``access_requests`` table; every change is audited in its own transaction."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def create(self, request: AccessRequest) -> AccessRequest:
        """Record a new (pending) request and audit ``access.request``."""
        row = AccessRequestRow(
            id=request.request_id,
            tenant_id=request.tenant_id,
            level=request.level.value,
            requester=request.requester,
            reason=request.reason,
            duration_seconds=request.duration_seconds,
            state=request.state.value,
            created_at=request.created_at,
            expires_at=request.expires_at,
        )
        with self._db.session() as session:
            session.add(row)
            session.flush()
            created = _to_request(row)
            self._audit.append_in(
                session,
                request.requester,
                "access.request",
                created.request_id,
                audit_details(created),
            )
        return created

    def get(self, request_id: str) -> AccessRequest:
        """NotFoundError if there is no such request."""
        with self._db.session(write=False) as session:
            row = session.get(AccessRequestRow, request_id)
            if row is None:
                raise not_found(request_id)
            return _to_request(row)

    def list(
        self,
        *,
        state: RequestState | None = None,
        tenants: Iterable[str] | None = None,
        limit: int = 100,
    ) -> builtins.list[AccessRequest]:
        """Requests newest first, in ``state`` and for ``tenants`` if given."""
        query = (
            select(AccessRequestRow)
            .order_by(AccessRequestRow.created_at.desc(), AccessRequestRow.id)
            .limit(max(0, limit))
        )
        if state is not None:
            query = query.where(AccessRequestRow.state == state.value)
        if tenants is not None:
            query = query.where(AccessRequestRow.tenant_id.in_(sorted(tenants)))
        with self._db.session(write=False) as session:
            return [_to_request(row) for row in session.scalars(query)]

    def expire_due(self, now: datetime) -> builtins.list[AccessRequest]:
        """Mark every open request past its deadline ``expired`` (audited); return them."""
        query = (
            select(AccessRequestRow)
            .where(AccessRequestRow.state.in_(sorted(s.value for s in OPEN_STATES)))
            .where(AccessRequestRow.expires_at <= now)
        )
        with self._db.session(write=False) as session:  # most of the time: nothing to do
            if session.scalars(query.limit(1)).first() is None:
                return []
        with self._db.session() as session:
            rows = builtins.list(session.scalars(query.with_for_update()))  # locks first
            return [self._expire(session, row) for row in rows]

    def transition(
        self,
        request_id: str,
        change: Callable[[AccessRequest], AccessRequest],
        *,
        now: datetime,
        actor: str,
        action: str,
        subject: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AccessRequest:
        """Apply ``change`` (a domain transition, which raises if it is not allowed) to the
        request under its row lock, write it and audit ``action`` (subject: the request, or
        ``subject``; ``details`` are added to the request's own), all in one transaction.

        A request past its deadline is recorded as expired instead, and ``change`` then
        raises the domain's error for it. NotFoundError if there is no such request."""
        with self._db.session() as session:
            row = session.get(AccessRequestRow, request_id, with_for_update=True)
            if row is None:
                raise not_found(request_id)
            current = _to_request(row)
            if not current.due_to_expire(now):
                changed = change(current)  # raises: the transaction rolls back
                _write(row, changed)
                session.flush()
                self._audit.append_in(
                    session,
                    actor,
                    action,
                    subject or changed.request_id,
                    {**audit_details(changed), **(details or {}), "request": changed.request_id},
                )
                return changed
            self._expire(session, row)
        change(current)  # the domain's error for an expired request, now that it is recorded
        raise AccessRequestExpiredError(f"access request {request_id} has expired")

    def _expire(self, session: Session, row: AccessRequestRow) -> AccessRequest:
        expired = _to_request(row).expire()
        _write(row, expired)
        session.flush()
        self._audit.append_in(
            session,
            SYSTEM_ACTOR,
            "access.request.expire",
            expired.request_id,
            audit_details(expired),
        )
        return expired
