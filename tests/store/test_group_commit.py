"""Group commit: writes from many threads share transactions, each caller sees its own outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from stockade.store import Database
from stockade.store.group_commit import GroupCommit


class CountingSessions:
    """``Database.session``, counting the transactions opened."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.opened = 0
        self._lock = threading.Lock()

    def __call__(self) -> AbstractContextManager[Session]:
        with self._lock:
            self.opened += 1
        return self.db.session()


@pytest.fixture
def table(db: Database) -> Iterator[Database]:
    with db.session() as session:
        session.execute(text("CREATE TABLE gc_test (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
    yield db
    with db.session() as session:
        session.execute(text("DROP TABLE gc_test"))


def insert(key: int, value: str = "x") -> Callable[[Session], int]:
    def work(session: Session) -> int:
        session.execute(text("INSERT INTO gc_test (k, v) VALUES (:k, :v)"), {"k": key, "v": value})
        return key

    return work


def keys(db: Database) -> list[int]:
    with db.session(write=False) as session:
        return list(session.scalars(text("SELECT k FROM gc_test ORDER BY k")))


def test_many_threads_share_few_transactions_and_all_commit(table: Database) -> None:
    sessions = CountingSessions(table)
    group = GroupCommit(sessions)
    start = threading.Barrier(64)

    def one(key: int) -> int:
        start.wait()
        return group.run(insert(key))

    with ThreadPoolExecutor(64) as pool:
        results = list(pool.map(one, range(64)))
    group.close()
    assert results == list(range(64))
    assert keys(table) == list(range(64))  # committed before run() returned
    assert sessions.opened < 64


def test_an_error_reaches_only_its_caller(table: Database) -> None:
    group = GroupCommit(CountingSessions(table))
    group.run(insert(1))
    start = threading.Barrier(8)

    def one(key: int) -> str:
        start.wait()
        try:
            group.run(insert(1 if key == 3 else 100 + key))
        except Exception as exc:  # the duplicate key
            return type(exc).__name__
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, range(8)))
    group.close()
    assert outcomes.count("ok") == 7
    assert outcomes[3] == "IntegrityError"
    assert keys(table) == [1] + [100 + k for k in range(8) if k != 3]


def test_a_closed_group_refuses_new_work(table: Database) -> None:
    group = GroupCommit(CountingSessions(table))
    group.close()
    with pytest.raises(RuntimeError, match="closed"):
        group.run(insert(5))


def test_database_batched_commits(table: Database) -> None:
    assert table.batched(insert(7)) == 7
    assert keys(table) == [7]
