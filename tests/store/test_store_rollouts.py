"""Tests of ``RolloutRepository``: lifecycle and its state machine, monotonic tenant progress,
wave counts, rollback bookkeeping, and a fleet-sized rollout."""

from __future__ import annotations

import threading
import time

import pytest

from stockade.domain.errors import ConflictError, NotFoundError, ValidationError
from stockade.domain.spec import Wave
from stockade.domain.waves import WaveTenant, plan_waves
from stockade.store import (
    AuditLog,
    ReleaseRepository,
    RolloutRepository,
    RolloutState,
    TenantStatus,
)
from stockade.store.rollout_types import ROLLOUT_TRANSITIONS

from .store_fleet_support import make_release, wave

R = RolloutState
T = TenantStatus


@pytest.fixture
def release_ids(releases: ReleaseRepository) -> tuple[str, str]:
    """(previous, current) stored release ids."""
    previous, current = make_release("1.0.0"), make_release("2.0.0")
    releases.save(previous, actor="ci")
    releases.save(current, actor="ci")
    return previous.release_id, current.release_id


def two_waves(
    rollouts: RolloutRepository, release_ids: tuple[str, str], *, tolerance: int | str = 0
) -> str:
    previous, current = release_ids
    rollout = rollouts.create(
        current,
        [
            wave("canary", ["c1", "c2"], index=0, max_concurrency=1, failure_tolerance=0),
            wave("rest", ["r1", "r2", "r3", "r4"], index=2, failure_tolerance=tolerance),
        ],
        actor="alice",
        previous_release_id=previous,
    )
    return rollout.id


def test_create_records_a_pending_rollout(
    rollouts: RolloutRepository, release_ids: tuple[str, str], audit: AuditLog
) -> None:
    rollout_id = two_waves(rollouts, release_ids, tolerance="50%")
    rollout = rollouts.get(rollout_id)
    assert rollout.state is R.PENDING
    assert (rollout.previous_release_id, rollout.release_id) == release_ids
    assert rollout.created_by == rollout.updated_by == "alice"
    assert rollout.size == 6
    canary, rest = rollout.waves
    assert (canary.index, canary.name, canary.spec_index, canary.max_concurrency) == (
        0,
        "canary",
        0,
        1,
    )
    assert (rest.index, rest.spec_index, rest.failure_tolerance) == (1, 2, "50%")
    assert canary.tenant_ids == ("c1", "c2")
    assert rest.tenant_ids == ("r1", "r2", "r3", "r4")
    assert rest.counts == {T.PENDING: 4, T.RUNNING: 0, T.SUCCEEDED: 0, T.FAILED: 0, T.SKIPPED: 0}
    assert rollout.tenants is not None
    assert [t.tenant_id for t in rollout.tenants] == ["c1", "c2", "r1", "r2", "r3", "r4"]
    assert all(t.status is T.PENDING and t.attempts == 0 for t in rollout.tenants)
    assert rollout.current_wave == 0
    [event] = audit.list(action="rollout.create")
    assert event.subject == rollout_id
    assert event.details["tenants"] == 6
    summary = rollouts.get(rollout_id, tenants=False)
    assert summary.tenants is None and summary.waves[0].tenant_ids is None
    assert summary.counts[T.PENDING] == 6


def test_create_refuses_bad_input(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    _, current = release_ids
    with pytest.raises(NotFoundError):
        rollouts.create("f" * 64, [wave("all", ["a"])], actor="alice")
    with pytest.raises(NotFoundError):
        rollouts.create(current, [wave("all", ["a"])], actor="alice", previous_release_id="e" * 64)
    with pytest.raises(NotFoundError):
        rollouts.create(current, [wave("all", ["a"])], actor="alice", rollback_of="ro-nope")
    with pytest.raises(ValidationError):
        rollouts.create(current, [wave("one", ["a"]), wave("two", ["b", "a"])], actor="alice")
    assert rollouts.list() == []


def test_create_with_an_id_is_idempotent(
    rollouts: RolloutRepository, release_ids: tuple[str, str], audit: AuditLog
) -> None:
    previous, current = release_ids
    first = rollouts.create(current, [wave("all", ["a", "b"])], actor="e", rollout_id="ro-fixed")
    rollouts.mark_tenant("ro-fixed", "a", T.RUNNING)
    again = rollouts.create(current, [wave("all", ["a", "b"])], actor="e", rollout_id="ro-fixed")
    assert again.id == first.id == "ro-fixed"
    assert again.counts[T.RUNNING] == 1  # the existing rollout, untouched
    assert len(audit.list(action="rollout.create")) == 1
    with pytest.raises(ConflictError):
        rollouts.create(previous, [wave("all", ["a"])], actor="e", rollout_id="ro-fixed")


def test_lifecycle_halt_resume_complete_rollback(
    rollouts: RolloutRepository, release_ids: tuple[str, str], audit: AuditLog
) -> None:
    rollout_id = two_waves(rollouts, release_ids)
    assert rollouts.transition(rollout_id, R.RUNNING, actor="engine").state is R.RUNNING
    halted = rollouts.transition(rollout_id, R.HALTED, actor="engine", reason="canary failed")
    assert (halted.state, halted.halt_reason, halted.updated_by) == (
        R.HALTED,
        "canary failed",
        "engine",
    )
    resumed = rollouts.transition(rollout_id, R.RUNNING, actor="bob")
    assert (resumed.state, resumed.halt_reason) == (R.RUNNING, None)
    # the same state again is a no-op and records nothing
    count = len(audit.list(subject=rollout_id))
    rollouts.transition(rollout_id, R.RUNNING, actor="bob")
    assert len(audit.list(subject=rollout_id)) == count
    rollouts.transition(rollout_id, R.COMPLETED, actor="engine")
    rollouts.transition(rollout_id, R.ROLLED_BACK, actor="bob", reason="bad release")
    actions = [e.action for e in reversed(audit.list(subject=rollout_id))]
    assert actions == [
        "rollout.create",
        "rollout.running",
        "rollout.halted",
        "rollout.running",
        "rollout.completed",
        "rollout.rolled_back",
    ]
    assert audit.verify().ok


def test_invalid_transitions_conflict_and_change_nothing(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    rollout_id = two_waves(rollouts, release_ids)
    with pytest.raises(ConflictError) as info:
        rollouts.transition(rollout_id, R.COMPLETED, actor="engine")
    assert "running" in info.value.hint
    assert rollouts.get(rollout_id).state is R.PENDING
    rollouts.transition(rollout_id, R.RUNNING, actor="engine")
    rollouts.transition(rollout_id, R.COMPLETED, actor="engine")
    for target in (R.RUNNING, R.HALTED, R.FAILED, R.PENDING):
        with pytest.raises(ConflictError):
            rollouts.transition(rollout_id, target, actor="engine")
        assert rollouts.get(rollout_id, tenants=False).state is R.COMPLETED
    rollouts.transition(rollout_id, R.ROLLED_BACK, actor="engine")
    with pytest.raises(ConflictError, match="cannot become") as final:
        rollouts.transition(rollout_id, R.RUNNING, actor="engine")
    assert "final" in final.value.hint
    with pytest.raises(NotFoundError):
        rollouts.transition("ro-nope", R.RUNNING, actor="engine")


def test_every_listed_transition_is_allowed_and_no_other(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    paths = {
        R.PENDING: [],
        R.RUNNING: [R.RUNNING],
        R.HALTED: [R.RUNNING, R.HALTED],
        R.COMPLETED: [R.RUNNING, R.COMPLETED],
        R.FAILED: [R.RUNNING, R.FAILED],
        R.ROLLED_BACK: [R.RUNNING, R.COMPLETED, R.ROLLED_BACK],
    }
    _, current = release_ids
    for start, path in paths.items():
        for target in R:
            rollout_id = rollouts.create(current, [], actor="t").id
            for step in path:
                rollouts.transition(rollout_id, step, actor="t")
            allowed = target == start or target in ROLLOUT_TRANSITIONS[start]
            if allowed:
                assert rollouts.transition(rollout_id, target, actor="t").state is target
            else:
                with pytest.raises(ConflictError):
                    rollouts.transition(rollout_id, target, actor="t")
                assert rollouts.get(rollout_id).state is start
            if rollouts.get(rollout_id).open:  # one open rollout at a time: close it
                rollouts.transition(rollout_id, R.FAILED, actor="t")


def test_tenant_status_only_moves_forward(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    rollout_id = two_waves(rollouts, release_ids)
    running = rollouts.mark_tenant(rollout_id, "c1", T.RUNNING)
    assert (running.status, running.attempts) == (T.RUNNING, 1)
    assert running.started_at is not None and running.finished_at is None
    # a re-run step marks it running again: nothing changes
    assert rollouts.mark_tenant(rollout_id, "c1", T.RUNNING) == running
    done = rollouts.mark_tenant(rollout_id, "c1", T.SUCCEEDED)
    assert done.status is T.SUCCEEDED and done.finished_at is not None
    for late in (T.RUNNING, T.PENDING, T.FAILED, T.SKIPPED):
        assert rollouts.mark_tenant(rollout_id, "c1", late, error="late") == done
    # failed keeps its error; a retry counts an attempt and clears it
    rollouts.mark_tenant(rollout_id, "c2", T.RUNNING)
    failed = rollouts.mark_tenant(rollout_id, "c2", T.FAILED, error="stack timed out")
    assert (failed.status, failed.error) == (T.FAILED, "stack timed out")
    retried = rollouts.mark_tenant(rollout_id, "c2", T.RUNNING)
    assert (retried.status, retried.attempts, retried.error) == (T.RUNNING, 2, None)
    # pending straight to skipped (nothing to do)
    assert rollouts.mark_tenant(rollout_id, "r1", T.SKIPPED).status is T.SKIPPED
    with pytest.raises(NotFoundError):
        rollouts.mark_tenant(rollout_id, "stranger", T.RUNNING)
    with pytest.raises(NotFoundError):
        rollouts.mark_tenant("ro-nope", "c1", T.RUNNING)


def test_concurrent_marks_count_one_attempt(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    rollout_id = two_waves(rollouts, release_ids)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def mark() -> None:
        barrier.wait()
        try:
            rollouts.mark_tenant(rollout_id, "c1", T.RUNNING)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=mark) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    [c1] = [t for t in rollouts.get(rollout_id).tenants or () if t.tenant_id == "c1"]
    assert (c1.status, c1.attempts) == (T.RUNNING, 1)


def test_wave_counts_next_pending_and_operations(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    rollout_id = two_waves(rollouts, release_ids, tolerance=1)
    assert rollouts.next_pending(rollout_id, 1, 3) == ["r1", "r2", "r3"]
    rollouts.mark_tenant(rollout_id, "r1", T.RUNNING)
    rollouts.mark_tenant(rollout_id, "r2", T.RUNNING)
    rollouts.mark_tenant(rollout_id, "r2", T.FAILED, error="boom")
    assert rollouts.next_pending(rollout_id, 1, 10) == ["r3", "r4"]
    assert rollouts.next_pending(rollout_id, 1, 0) == []
    assert rollouts.wave_counts(rollout_id, 1) == {
        T.PENDING: 2,
        T.RUNNING: 1,
        T.SUCCEEDED: 0,
        T.FAILED: 1,
        T.SKIPPED: 0,
    }
    assert rollouts.wave_counts(rollout_id, 0)[T.PENDING] == 2
    assert sum(rollouts.wave_counts(rollout_id, 7).values()) == 0
    rest = rollouts.get(rollout_id).waves[1]
    assert not rest.done and not rest.tolerance_exceeded
    rollouts.mark_tenant(rollout_id, "r3", T.FAILED, error="boom")
    assert rollouts.get(rollout_id, tenants=False).waves[1].tolerance_exceeded
    assert rollouts.add_operations(rollout_id, "r1") == 1
    assert rollouts.add_operations(rollout_id, "r1", 3) == 4
    with pytest.raises(ValidationError):
        rollouts.add_operations(rollout_id, "r1", -1)
    [r1] = [t for t in rollouts.get(rollout_id).tenants or () if t.tenant_id == "r1"]
    assert r1.operations == 4


def test_changed_tenants_feed_a_rollback(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    previous, _ = release_ids
    rollout_id = two_waves(rollouts, release_ids)
    rollouts.transition(rollout_id, R.RUNNING, actor="engine")
    for tenant_id, status in [("c1", T.SUCCEEDED), ("c2", T.FAILED), ("r2", T.SKIPPED)]:
        rollouts.mark_tenant(rollout_id, tenant_id, T.RUNNING)
        rollouts.mark_tenant(rollout_id, tenant_id, status)
    rollouts.mark_tenant(rollout_id, "r3", T.RUNNING)  # in flight when halted
    rollouts.transition(rollout_id, R.HALTED, actor="engine", reason="tolerance")
    changed = rollouts.changed_tenants(rollout_id)
    assert changed == ["c1", "c2", "r3"]
    assert rollouts.tenants_in(rollout_id, [T.PENDING]) == ["r1", "r4"]
    back = rollouts.create(
        previous, [wave("rollback", changed)], actor="bob", rollback_of=rollout_id
    )
    assert (back.rollback_of, back.release_id, back.size) == (rollout_id, previous, 3)
    rollouts.transition(rollout_id, R.ROLLED_BACK, actor="bob")


def test_list_newest_first_with_state_filter(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    first = two_waves(rollouts, release_ids)
    rollouts.transition(first, R.FAILED, actor="engine", reason="test")
    second = two_waves(rollouts, release_ids)
    rollouts.transition(second, R.RUNNING, actor="engine")
    rollouts.mark_tenant(second, "c1", T.RUNNING)
    listed = rollouts.list()
    assert [r.id for r in listed] == [second, first]
    assert listed[0].tenants is None
    assert listed[0].counts[T.RUNNING] == 1 and listed[1].counts[T.PENDING] == 6
    assert [r.id for r in rollouts.list(state=R.RUNNING)] == [second]
    open_one = rollouts.open_rollout()
    assert open_one is not None and open_one.id == second
    assert [r.id for r in rollouts.list(limit=1)] == [second]
    with pytest.raises(NotFoundError):
        rollouts.get("ro-nope")
    with pytest.raises(NotFoundError):
        rollouts.state_of("ro-nope")


def test_a_fleet_sized_rollout(
    rollouts: RolloutRepository, release_ids: tuple[str, str], db_url: str
) -> None:
    """6,000 tenants in canary / 10 % / 50 % / 100 % waves: created and counted in bulk.
    Prints the timings (not asserted)."""
    _, current = release_ids
    tenants = [
        WaveTenant(f"t{i:05d}", {"canary": "yes"} if i % 500 == 0 else {}) for i in range(6000)
    ]
    spec_waves = [
        Wave(name="canary", selector={"canary": "yes"}, max_concurrency=5),
        Wave(name="10%", percent=10, max_concurrency=50, failure_tolerance="5%"),
        Wave(name="50%", percent=50, max_concurrency=200, failure_tolerance="2%"),
        Wave(name="all", percent=100, max_concurrency=200, failure_tolerance="2%"),
    ]
    plans = plan_waves(tenants, spec_waves, seed="fleet")
    started = time.perf_counter()
    created = rollouts.create(current, plans, actor="engine")
    create_s = time.perf_counter() - started
    started = time.perf_counter()
    counts = [rollouts.wave_counts(created.id, w.index) for w in created.waves]
    pending = rollouts.next_pending(created.id, 3, 200)
    count_s = time.perf_counter() - started
    started = time.perf_counter()
    loaded = rollouts.get(created.id)
    get_s = time.perf_counter() - started
    assert [c[T.PENDING] for c in counts] == [12, 588, 2400, 3000]
    assert pending == list(plans[3].tenant_ids[:200])
    assert loaded.size == 6000 and loaded.tenants is not None and len(loaded.tenants) == 6000
    assert [w.tenant_ids for w in loaded.waves] == [p.tenant_ids for p in plans]
    backend = db_url.split(":", 1)[0]
    print(
        f"\n[{backend}] 6,000-tenant rollout: create {create_s * 1000:.0f} ms, "
        f"4 wave counts + next_pending {count_s * 1000:.1f} ms, get {get_s * 1000:.0f} ms"
    )


def test_concurrent_creates_with_one_id_make_one_rollout(
    rollouts: RolloutRepository, release_ids: tuple[str, str], audit: AuditLog
) -> None:
    _, current = release_ids
    barrier = threading.Barrier(6)
    created: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            rollout = rollouts.create(
                current, [wave("all", ["a", "b", "c"])], actor="engine", rollout_id="ro-race"
            )
            created.append(rollout.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert created == ["ro-race"] * 6
    assert len(audit.list(action="rollout.create")) == 1
    assert rollouts.get("ro-race").size == 3


def test_one_open_rollout_at_a_time_except_its_rollback(
    rollouts: RolloutRepository, release_ids: tuple[str, str]
) -> None:
    previous, _ = release_ids
    first = two_waves(rollouts, release_ids)
    with pytest.raises(ConflictError, match="still open"):
        two_waves(rollouts, release_ids)
    rollouts.transition(first, R.RUNNING, actor="engine")
    assert rollouts.get(first).runs == 1
    assert rollouts.state_of(first) is R.RUNNING
    rollouts.transition(first, R.HALTED, actor="engine", reason="tolerance")
    rollouts.transition(first, R.RUNNING, actor="alice")
    assert rollouts.get(first).runs == 2
    rollouts.transition(first, R.HALTED, actor="alice", reason="looks wrong")
    back = rollouts.create(
        previous, [wave("rollback", ["c1"])], actor="bob", rollback_of=first, max_in_flight=7
    )
    assert (back.max_in_flight, back.runs) == (7, 0)
    with pytest.raises(ConflictError, match="still open"):
        two_waves(rollouts, release_ids)  # the rollback itself is open now
    assert rollouts.wave_tenants(back.id, 0)[0].tenant_id == "c1"
