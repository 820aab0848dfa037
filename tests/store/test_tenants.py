"""Tests of ``TenantRepository``: records, uniqueness under races, lifecycle, bookkeeping."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.domain.errors import ConflictError, NotFoundError, StockadeError, ValidationError
from stockade.domain.tenant import Tenant, TenantRequest, TenantState, can_transition
from stockade.store import AuditLog, Database, TenantRepository

S = TenantState


def make(tenants: TenantRepository, tenant_id: str, tier: str = "basic", **labels: str) -> Tenant:
    return tenants.create(
        TenantRequest(tenant_id=tenant_id, tier=tier, name=tenant_id.title(), labels=labels),
        email=f"{tenant_id}@example.com",
        actor="alice",
    )


def run_threads(count: int, target: Callable[[int], None]) -> None:
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        barrier.wait()
        target(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_create_then_get_and_find(tenants: TenantRepository, audit: AuditLog) -> None:
    created = make(tenants, "acme", env="prod")
    assert created.state == S.REQUESTED
    assert created.attempt == 1
    assert created.labels == {"env": "prod"}
    assert created.account_email == "acme@example.com"
    assert created.created_at is not None and created.created_at.utcoffset() is not None
    assert tenants.get("acme") == created
    assert tenants.find("acme") == created
    assert tenants.find("nope") is None
    with pytest.raises(NotFoundError) as info:
        tenants.get("nope")
    assert info.value.hint
    [event] = audit.list(action="tenant.create")
    assert (event.actor, event.subject) == ("alice", "acme")
    assert event.details["tier"] == "basic"


def test_create_refuses_an_invalid_id(tenants: TenantRepository) -> None:
    with pytest.raises(ValidationError):
        make(tenants, "Not_A_Slug")


def test_list_filters_orders_and_pages(tenants: TenantRepository) -> None:
    for i, tier in enumerate(["basic", "pro", "basic", "pro", "basic"]):
        make(tenants, f"t{i}", tier=tier)
    tenants.transition("t1", S.PROVISIONING, actor="engine")
    assert [t.tenant_id for t in tenants.list()] == ["t0", "t1", "t2", "t3", "t4"]
    assert [t.tenant_id for t in tenants.list(tier="pro")] == ["t1", "t3"]
    assert [t.tenant_id for t in tenants.list(state=S.PROVISIONING)] == ["t1"]
    assert [t.tenant_id for t in tenants.list(state=S.REQUESTED, tier="basic")] == [
        "t0",
        "t2",
        "t4",
    ]
    assert [t.tenant_id for t in tenants.list(limit=2, offset=1)] == ["t1", "t2"]
    assert tenants.list(state=S.ACTIVE) == []
    assert {t.tenant_id for t in tenants.in_states([S.REQUESTED, S.PROVISIONING])} == {
        "t0",
        "t1",
        "t2",
        "t3",
        "t4",
    }
    assert tenants.in_states([]) == []
    counts = tenants.count_by_state()
    assert set(counts) == set(S)
    assert counts[S.REQUESTED] == 4 and counts[S.PROVISIONING] == 1 and counts[S.CLOSED] == 0


@pytest.mark.parametrize("clash", ["id", "email"])
def test_duplicates_conflict_and_write_nothing(
    tenants: TenantRepository, audit: AuditLog, clash: str
) -> None:
    make(tenants, "acme")
    before = audit.count()
    request = TenantRequest(tenant_id="acme" if clash == "id" else "other", tier="pro")
    with pytest.raises(ConflictError) as info:
        tenants.create(request, email="acme@example.com", actor="bob")
    expected = "tenant 'acme' already exists" if clash == "id" else "already used by tenant"
    assert expected in info.value.message
    assert info.value.hint
    assert [t.tenant_id for t in tenants.list()] == ["acme"]
    assert tenants.get("acme").tier == "basic"
    assert audit.count() == before


@pytest.mark.parametrize("clash", ["id", "email"])
def test_concurrent_creates_exactly_one_wins(
    db: Database, tenants: TenantRepository, audit: AuditLog, clash: str
) -> None:
    won: list[str] = []
    lost: list[StockadeError] = []
    other: list[BaseException] = []

    def create(n: int) -> None:
        tenant_id = "race" if clash == "id" else f"race{n}"
        email = f"race{n}@example.com" if clash == "id" else "race@example.com"
        try:
            tenants.create(TenantRequest(tenant_id, "basic"), email=email, actor=f"u{n}")
            won.append(tenant_id)
        except ConflictError as exc:
            lost.append(exc)
        except BaseException as exc:
            other.append(exc)

    run_threads(8, create)
    assert other == []
    assert len(won) == 1 and len(lost) == 7
    assert [t.tenant_id for t in tenants.list()] == won
    assert len(audit.list(action="tenant.create")) == 1
    assert audit.verify().ok


def test_transitions_follow_the_state_machine(tenants: TenantRepository, audit: AuditLog) -> None:
    make(tenants, "acme")
    for target in (S.PROVISIONING, S.ACTIVE, S.SUSPENDED, S.ACTIVE, S.RETIRING, S.CLOSED):
        assert tenants.transition("acme", target, actor="engine").state == target
    actions = [e.action for e in reversed(audit.list(subject="acme"))]
    assert actions == [
        "tenant.create",
        "tenant.provisioning",
        "tenant.active",
        "tenant.suspended",
        "tenant.active",
        "tenant.retiring",
        "tenant.closed",
    ]
    with pytest.raises(ConflictError, match="is closed and cannot become active"):
        tenants.transition("acme", S.ACTIVE, actor="engine")
    assert tenants.get("acme").state == S.CLOSED
    assert len(audit.list(subject="acme")) == 7
    with pytest.raises(NotFoundError):
        tenants.transition("ghost", S.ACTIVE, actor="engine")


def test_same_state_transition_is_a_quiet_no_op(tenants: TenantRepository, audit: AuditLog) -> None:
    make(tenants, "acme")
    tenants.transition("acme", S.PROVISIONING, actor="engine")
    count = audit.count()
    assert tenants.transition("acme", S.PROVISIONING, actor="engine").state == S.PROVISIONING
    assert audit.count() == count


def test_failure_is_recorded_and_cleared(tenants: TenantRepository, audit: AuditLog) -> None:
    make(tenants, "acme")
    tenants.transition("acme", S.PROVISIONING, actor="engine")
    failed = tenants.transition(
        "acme", S.FAILED, actor="engine", reason="quota exceeded", failed_step="create_account"
    )
    assert (failed.failure_reason, failed.failed_step) == ("quota exceeded", "create_account")
    [event] = audit.list(action="tenant.failed")
    assert event.details["reason"] == "quota exceeded"
    resumed = tenants.transition("acme", S.PROVISIONING, actor="engine")
    assert (resumed.failure_reason, resumed.failed_step) == (None, None)
    assert resumed.attempt == 1


def test_retry_only_from_failed(tenants: TenantRepository, audit: AuditLog) -> None:
    make(tenants, "acme")
    with pytest.raises(ConflictError, match="is requested"):
        tenants.retry("acme", actor="bob")
    tenants.transition("acme", S.FAILED, actor="engine", reason="boom", failed_step="baseline")
    retried = tenants.retry("acme", actor="bob")
    assert retried.state == S.PROVISIONING
    assert retried.attempt == 2
    assert retried.workflow_id == "onboard-acme-2"
    assert (retried.failure_reason, retried.failed_step) == (None, None)
    [event] = audit.list(action="tenant.retry")
    assert event.actor == "bob" and event.details["failed_step"] == "baseline"
    with pytest.raises(NotFoundError):
        tenants.retry("ghost", actor="bob")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(targets=st.lists(st.sampled_from(list(S)), max_size=12))
def test_any_sequence_of_transitions_matches_the_domain_rules(
    tenants: TenantRepository, targets: list[TenantState]
) -> None:
    tenant_id = f"h{len(tenants.list())}"
    make(tenants, tenant_id)
    state = S.REQUESTED
    for target in targets:
        if can_transition(state, target):
            state = tenants.transition(tenant_id, target, actor="prop").state
            assert state == target
        else:
            with pytest.raises(ConflictError):
                tenants.transition(tenant_id, target, actor="prop")
        assert tenants.get(tenant_id).state == state


def test_record_account_is_idempotent_and_guards_conflicts(
    tenants: TenantRepository, audit: AuditLog
) -> None:
    make(tenants, "acme")
    make(tenants, "beta")
    tenants.record_account("acme", "111111111111")
    tenants.record_account("acme", "111111111111")
    assert tenants.get("acme").account_id == "111111111111"
    assert len(audit.list(action="tenant.account")) == 1
    with pytest.raises(ConflictError, match="already has account 111111111111"):
        tenants.record_account("acme", "222222222222")
    with pytest.raises(ConflictError, match="already recorded for tenant 'acme'"):
        tenants.record_account("beta", "111111111111")
    assert tenants.get("acme").account_id == "111111111111"
    assert tenants.get("beta").account_id is None


def test_create_intent_and_request_bookkeeping(tenants: TenantRepository) -> None:
    make(tenants, "acme")
    assert tenants.create_intent_at("acme") is None
    tenants.record_create_intent("acme")
    first = tenants.create_intent_at("acme")
    assert first is not None
    tenants.record_create_intent("acme")
    assert tenants.create_intent_at("acme") == first
    tenants.record_create_request("acme", "car-123")
    assert tenants.get("acme").create_request_id == "car-123"
    tenants.clear_create_request("acme")
    assert tenants.get("acme").create_request_id is None
    assert tenants.create_intent_at("acme") is None
    calls: list[Callable[[], object]] = [
        lambda: tenants.record_create_intent("ghost"),
        lambda: tenants.record_create_request("ghost", "x"),
        lambda: tenants.clear_create_request("ghost"),
        lambda: tenants.record_account("ghost", "333333333333"),
        lambda: tenants.add_warning("ghost", "x"),
        lambda: tenants.create_intent_at("ghost"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call()


def test_warnings_are_deduplicated(tenants: TenantRepository) -> None:
    make(tenants, "acme")
    tenants.add_warning("acme", "stack skipped AWS::Foo::Bar")
    tenants.add_warning("acme", "stack skipped AWS::Foo::Bar")
    tenants.add_warning("acme", "second")
    assert tenants.get("acme").warnings == ("stack skipped AWS::Foo::Bar", "second")


def test_concurrent_warnings_are_all_kept(tenants: TenantRepository) -> None:
    make(tenants, "acme")
    run_threads(8, lambda n: tenants.add_warning("acme", f"w{n}"))
    assert sorted(tenants.get("acme").warnings) == sorted(f"w{n}" for n in range(8))


def test_delete_all(tenants: TenantRepository, audit: AuditLog) -> None:
    make(tenants, "a1")
    make(tenants, "a2")
    assert tenants.delete_all() == 2
    assert tenants.list() == []
    assert tenants.delete_all() == 0
    assert audit.verify().ok
    make(tenants, "a1")  # the id and e-mail are free again


def test_concurrent_transitions_record_one_change(
    tenants: TenantRepository, audit: AuditLog
) -> None:
    make(tenants, "acme")
    errors: list[BaseException] = []

    def move(_n: int) -> None:
        try:
            tenants.transition("acme", S.PROVISIONING, actor="engine")
        except BaseException as exc:
            errors.append(exc)

    run_threads(8, move)
    assert errors == []
    assert tenants.get("acme").state == S.PROVISIONING
    assert len(audit.list(action="tenant.provisioning")) == 1
