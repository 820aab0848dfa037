"""Tests of ``AuditLog``: the hash chain, tamper detection, concurrency, listing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from stockade.domain.errors import ValidationError
from stockade.store import AuditLog, Database
from stockade.store.audit import GENESIS_HASH, event_hash
from stockade.store.models import AuditEventRow


def fill(audit: AuditLog, count: int) -> None:
    for i in range(1, count + 1):
        audit.append("alice", "test.event", f"subject-{i}", {"i": i})


def set_details(db: Database, seq: int, details: dict[str, Any], *, rehash: bool = False) -> None:
    with db.session() as s:
        row = s.get(AuditEventRow, seq)
        assert row is not None
        row.details = details
        if rehash:
            row.hash = event_hash(
                prev_hash=row.prev_hash,
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                details=details,
            )


def delete_seq(db: Database, seq: int) -> None:
    with db.session() as s:
        s.execute(delete(AuditEventRow).where(AuditEventRow.seq == seq))


def swap_seq(db: Database, a: int, b: int) -> None:
    with db.session() as s:
        for old, new in ((a, -1), (b, a), (-1, b)):
            s.execute(update(AuditEventRow).where(AuditEventRow.seq == old).values(seq=new))


def test_chain_links_from_genesis(audit: AuditLog) -> None:
    first = audit.append("alice", "token.create", "tok_1", {"role": "admin"})
    second = audit.append("bob", "tenant.create", "acme")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.details == {}
    assert first.at.utcoffset() == timedelta(0)
    result = audit.verify()
    assert result.ok and result.checked == 2 and result.problems == []
    assert result.first_broken_seq is None


def test_empty_chain_verifies(audit: AuditLog) -> None:
    result = audit.verify()
    assert result.ok and result.checked == 0


def test_edited_details_are_detected(db: Database, audit: AuditLog) -> None:
    fill(audit, 6)
    set_details(db, 3, {"i": 333})
    result = audit.verify()
    assert not result.ok
    assert result.first_broken_seq == 3
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "edited")]


def test_rewritten_and_rehashed_event_is_detected(db: Database, audit: AuditLog) -> None:
    fill(audit, 6)
    set_details(db, 3, {"i": 333}, rehash=True)
    result = audit.verify()
    assert result.first_broken_seq == 3
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "edited")]


@pytest.mark.parametrize("seq", [1, 4, 6])
def test_deleted_event_is_detected(db: Database, audit: AuditLog, seq: int) -> None:
    fill(audit, 6)
    delete_seq(db, seq)
    result = audit.verify()
    assert not result.ok
    assert result.first_broken_seq == seq
    assert [(p.seq, p.kind) for p in result.problems] == [(seq, "missing")]
    assert result.checked == 5


def test_deleting_the_newest_event_stays_visible_after_more_appends(
    db: Database, audit: AuditLog
) -> None:
    fill(audit, 5)
    delete_seq(db, 5)
    appended = audit.append("alice", "after", "x")
    assert appended.seq == 6
    result = audit.verify()
    assert [(p.seq, p.kind) for p in result.problems] == [(5, "missing")]


@pytest.mark.parametrize(("a", "b"), [(3, 5), (2, 3), (1, 6)])
def test_swapped_events_are_detected_as_reordered(
    db: Database, audit: AuditLog, a: int, b: int
) -> None:
    fill(audit, 6)
    swap_seq(db, a, b)
    result = audit.verify()
    assert not result.ok
    assert result.first_broken_seq == a
    assert [(p.seq, p.kind) for p in result.problems] == [(a, "reordered"), (b, "reordered")]
    assert f"recorded as seq {b}" in result.problems[0].detail


def test_concurrent_appends_keep_the_chain_valid(db_url: str, db: Database) -> None:
    # two Database objects: like two processes, each with its own connection pool
    other = Database(db_url)
    logs = [AuditLog(db), AuditLog(other)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        try:
            for i in range(15):
                logs[n % 2].append(f"worker-{n}", "test.concurrent", f"s{n}", {"i": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    result = logs[0].verify()
    assert result.ok, result.problems
    assert result.checked == 120
    with db.session(write=False) as s:
        assert list(s.scalars(select(AuditEventRow.seq).order_by(AuditEventRow.seq))) == list(
            range(1, 121)
        )


def test_append_in_rolls_back_with_the_outer_transaction(db: Database, audit: AuditLog) -> None:
    audit.append("alice", "kept", "x")
    with pytest.raises(RuntimeError), db.session() as s:
        audit.append_in(s, "alice", "dropped", "x")
        raise RuntimeError("boom")
    assert [e.action for e in audit.list()] == ["kept"]
    assert audit.append("alice", "next", "x").seq == 2
    assert audit.verify().ok


def test_list_filters_newest_first(audit: AuditLog) -> None:
    audit.append("alice", "tenant.create", "acme")
    audit.append("bob", "tenant.create", "beta")
    audit.append("alice", "tenant.active", "acme")
    assert [e.seq for e in audit.list()] == [3, 2, 1]
    assert [e.seq for e in audit.list(actor="alice")] == [3, 1]
    assert [e.seq for e in audit.list(action="tenant.create")] == [2, 1]
    assert [e.seq for e in audit.list(subject="acme", actor="alice")] == [3, 1]
    assert [e.seq for e in audit.list(limit=1)] == [3]
    assert audit.list(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(audit.list(since=datetime.now(UTC) - timedelta(minutes=1))) == 3


@pytest.mark.parametrize("details", [{"x": float("nan")}, {"x": object()}, {"x": float("inf")}])
def test_non_json_details_are_refused(audit: AuditLog, details: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        audit.append("alice", "bad", "x", details)
    assert audit.count() == 0


def test_nul_and_unicode_details_round_trip(audit: AuditLog) -> None:
    details = {"nul": "a\x00b", "snow": "\u2603", "emoji": "\U0001f600", "k\x00": [1.5, -0.0]}
    appended = audit.append("alice", "unicode", "x", details)
    [listed] = audit.list()
    assert listed.details == details == appended.details
    assert audit.verify().ok


def test_bad_names_are_refused(audit: AuditLog) -> None:
    with pytest.raises(ValidationError):
        audit.append("", "action", "x")
    with pytest.raises(ValidationError):
        audit.append("alice", "a" * 101, "x")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(details=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_arbitrary_details_round_trip_and_verify(audit: AuditLog, details: dict[str, Any]) -> None:
    appended = audit.append("prop", "test.details", "subject", details)
    assert appended.details == details
    [listed] = audit.list(limit=1)
    assert listed == appended
    assert audit.verify().ok
