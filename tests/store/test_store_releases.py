"""Tests of ``ReleaseRepository``: idempotent saves, verified loads, current release, listing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

from stockade.domain.errors import NotFoundError, StoreError, ValidationError
from stockade.store import AuditLog, Database, ReleaseRepository
from stockade.store.models import ReleaseRow

from .store_fleet_support import make_release


def test_save_is_idempotent_and_audited_once(releases: ReleaseRepository, audit: AuditLog) -> None:
    release = make_release()
    assert releases.save(release, actor="alice") is True
    assert releases.save(release, actor="bob") is False
    # the same content built again has the same id: still a no-op
    assert releases.save(make_release(), actor="bob") is False
    [event] = audit.list(action="release.save")
    assert (event.actor, event.subject) == ("alice", release.release_id)
    assert event.details["services"] == {"api": "1.0.0", "orders": "1.0.0"}
    assert releases.get(release.release_id) == release
    assert audit.verify().ok


def test_get_round_trips_the_release_exactly(releases: ReleaseRepository) -> None:
    release = make_release("2.1.0", services=("api", "orders", "billing"))
    releases.save(release, actor="alice")
    loaded = releases.get(release.release_id)
    assert loaded == release
    assert loaded.content_json() == release.content_json()
    assert loaded.services["billing"].parameters == {"MemorySize": "256"}
    assert loaded.tiers["pro"].features == ("hooks",)


def test_unknown_release_is_not_found(releases: ReleaseRepository) -> None:
    with pytest.raises(NotFoundError) as info:
        releases.get("0" * 64)
    assert info.value.hint


def test_altered_content_fails_to_load(releases: ReleaseRepository, db: Database) -> None:
    release = make_release()
    releases.save(release, actor="alice")
    tampered = release.content_json().replace('"1.0.0"', '"6.6.6"')
    with db.session() as session:
        session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.release_id == release.release_id)
            .values(content=tampered)
        )
    with pytest.raises(StoreError, match="does not match"):
        releases.get(release.release_id)
    with pytest.raises(StoreError):
        releases.by_ids([release.release_id])
    with pytest.raises(StoreError):
        releases.latest()


def test_latest_is_the_release_applied_last(releases: ReleaseRepository, audit: AuditLog) -> None:
    assert releases.latest() is None
    first, second = make_release("1.0.0"), make_release("2.0.0")
    releases.save(first, actor="alice")
    assert releases.latest() == first
    releases.save(second, actor="alice")
    assert releases.latest() == second
    # saving the first again changes nothing; applying it again makes it current
    assert releases.save(first, actor="alice") is False
    assert releases.latest() == second
    releases.mark_applied(first.release_id, actor="bob")
    assert releases.latest() == first
    [event] = audit.list(action="release.apply")
    assert (event.actor, event.subject) == ("bob", first.release_id)
    with pytest.raises(NotFoundError):
        releases.mark_applied("f" * 64, actor="bob")


def test_list_summarizes_newest_applied_first(releases: ReleaseRepository) -> None:
    versions = ["1.0.0", "1.1.0", "1.2.0"]
    saved = [make_release(v) for v in versions]
    for release in saved:
        releases.save(release, actor="ci")
    summaries = releases.list()
    assert [s.release_id for s in summaries] == [r.release_id for r in reversed(saved)]
    newest = summaries[0]
    assert newest.services == {"api": "1.2.0", "orders": "1.2.0"}
    assert newest.baseline == {"stockade-access": "1.0.0"}
    assert newest.tiers == ("free", "pro")
    assert newest.created_by == "ci"
    assert newest.short_id == saved[-1].release_id[:12]
    assert len(releases.list(limit=2)) == 2


def test_by_ids_returns_the_known_ones(releases: ReleaseRepository) -> None:
    first, second = make_release("1.0.0"), make_release("2.0.0")
    releases.save(first, actor="alice")
    releases.save(second, actor="alice")
    unknown = "a" * 64
    found = releases.by_ids([first.release_id, unknown, second.release_id, first.release_id])
    assert found == {first.release_id: first, second.release_id: second}
    assert releases.by_ids([]) == {}


def test_resolve_a_short_id(releases: ReleaseRepository) -> None:
    release = make_release()
    releases.save(release, actor="alice")
    assert releases.resolve(release.release_id[:8]) == release.release_id
    assert releases.resolve(release.release_id.upper()[:10]) == release.release_id
    with pytest.raises(ValidationError):
        releases.resolve("abc")
    with pytest.raises(ValidationError):
        releases.resolve("zzzzzzzz")
    other = "0" * 6 if not release.release_id.startswith("000000") else "1" * 6
    with pytest.raises(NotFoundError):
        releases.resolve(other)


def test_concurrent_saves_store_one_release(releases: ReleaseRepository, audit: AuditLog) -> None:
    release = make_release()
    barrier = threading.Barrier(6)
    results: list[bool] = []
    errors: list[BaseException] = []

    def save() -> None:
        barrier.wait()
        try:
            results.append(releases.save(release, actor="ci"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    assert len(audit.list(action="release.save")) == 1
    assert releases.get(release.release_id) == release
