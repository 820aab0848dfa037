"""The audit routes: list the audit trail's events, and verify its hash chain.

Handlers are thin calls on ``AuditOperations`` (``stockade.engine.facade``, implemented by the
store's ``AuditLog``). Who may call them (admins and approvers: the trail names every actor,
tenant and credential issued) is decided by ``stockade.api.access``.

Who calls it: ``stockade.api.app.create_app``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Query

from stockade.api.audit_schemas import AuditList, AuditVerificationOut
from stockade.api.routes import AUTHENTICATED, error_responses
from stockade.engine.facade import AuditOperations

#: the largest page ``GET /api/v1/audit`` returns
MAX_AUDIT_PAGE = 1000


def add_audit_routes(app: FastAPI, *, audit: AuditOperations) -> None:
    """Register the audit routes on ``app``."""

    @app.get(
        "/api/v1/audit",
        tags=["audit"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(),
    )
    def list_audit_events(
        actor: Annotated[str | None, Query(max_length=200)] = None,
        action: Annotated[str | None, Query(max_length=100)] = None,
        subject: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[
            datetime | None,
            Query(description="ISO 8601; without a time zone, UTC"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
    ) -> AuditList:
        """Events matching every given filter (exact actor, action and subject; at or after
        ``since``), newest first."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        events = audit.list(actor=actor, action=action, subject=subject, since=since, limit=limit)
        return AuditList.of(events)

    @app.get(
        "/api/v1/audit/verify",
        tags=["audit"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(),
    )
    def verify_audit() -> AuditVerificationOut:
        """Walk the whole hash chain: every edited, missing or reordered event, earliest
        first, and the first broken link. 200 either way: read ``ok``."""
        return AuditVerificationOut.of(audit.verify())
