"""The break-glass request table on SQLite and PostgreSQL: each change one transaction with its
audit event, two approvals racing for one request (exactly one wins), expiry recorded before the
refusal, and migration 0005 going down and up again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from stockade.domain.access import AccessRequest, RequestState, new_request
from stockade.domain.errors import (
    AccessRequestClosedError,
    AccessRequestExpiredError,
    NotFoundError,
)
from stockade.store import AuditLog, Database
from stockade.store.access_requests import AccessRequestRepository
from stockade.store.db import MIGRATIONS_DIR

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)


@pytest.fixture
def requests(db: Database, audit: AuditLog) -> AccessRequestRepository:
    return AccessRequestRepository(db, audit)


def _create(requests: AccessRequestRepository, request_id: str, tenant: str = "acme") -> None:
    requests.create(
        new_request(
            request_id=request_id,
            tenant_id=tenant,
            requester="alice",
            reason="db down",
            duration_seconds=1800,
            now=T0,
            window=WINDOW,
        )
    )


def _approve(by: str, now: datetime = T0) -> Callable[[AccessRequest], AccessRequest]:
    def change(request: AccessRequest) -> AccessRequest:
        return request.approve(approver=by, approver_role="approver", now=now, window=WINDOW)

    return change


def test_requests_are_stored_listed_and_audited(
    requests: AccessRequestRepository, audit: AuditLog
) -> None:
    _create(requests, "ar-1")
    _create(requests, "ar-2", "globex")
    stored = requests.get("ar-1")
    assert (stored.state, stored.expires_at, stored.duration_seconds) == (
        RequestState.PENDING,
        T0 + WINDOW,
        1800,
    )
    assert {r.request_id for r in requests.list()} == {"ar-1", "ar-2"}
    assert [r.request_id for r in requests.list(tenants=["globex"])] == ["ar-2"]
    assert requests.list(state=RequestState.APPROVED) == []
    [event] = audit.list(subject="ar-1")
    assert (event.action, event.actor, event.details["tenant"]) == (
        "access.request",
        "alice",
        "acme",
    )
    with pytest.raises(NotFoundError):
        requests.get("ar-x")


def test_two_approvals_racing_for_one_request_cannot_both_succeed(
    requests: AccessRequestRepository, audit: AuditLog
) -> None:
    _create(requests, "ar-1")
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def approve(by: str) -> None:
        start.wait()
        try:
            requests.transition("ar-1", _approve(by), now=T0, actor=by, action="access.approve")
            outcomes.append("approved")
        except AccessRequestClosedError:
            outcomes.append("refused")

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("bob", "carol")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "refused"]
    assert len(audit.list(action="access.approve")) == 1
    assert audit.verify().ok


def test_a_late_change_records_the_expiry_then_fails(
    requests: AccessRequestRepository, audit: AuditLog
) -> None:
    _create(requests, "ar-1")
    late = T0 + WINDOW
    with pytest.raises(AccessRequestExpiredError):
        requests.transition(
            "ar-1", _approve("bob", late), now=late, actor="bob", action="access.approve"
        )
    assert requests.get("ar-1").state is RequestState.EXPIRED
    assert [e.action for e in audit.list(subject="ar-1")] == [
        "access.request.expire",
        "access.request",
    ]
    _create(requests, "ar-2")
    assert requests.expire_due(T0) == []
    assert [r.request_id for r in requests.expire_due(late)] == ["ar-2"]
    assert requests.expire_due(late) == []


def test_migration_0005_goes_down_and_up(db: Database) -> None:
    def alembic(action: str, revision: str) -> None:
        with db.engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)

    alembic("downgrade", "0004")
    assert "access_requests" not in inspect(db.engine).get_table_names()
    db.migrate()
    assert "access_requests" in inspect(db.engine).get_table_names()
