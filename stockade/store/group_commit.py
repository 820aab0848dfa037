"""Group commit: many threads' small write transactions committed together, each still durable.

A rollout runs hundreds of tenant deploys at once, and each records its progress in a few tiny
write transactions (a status mark, an operation count, a deployed stack). One at a time, those
commits queue on the database's write lock and become the fleet's speed limit. ``GroupCommit.run``
hands a unit of work to one writer thread, which runs every unit waiting at that moment in *one*
transaction and commits once; each caller returns only after the commit that contains its work,
with its own result or exception — so the durability a caller sees is the same as with its own
transaction, and a crash loses nothing a caller was told is saved.

If any unit of a batch raises, the batch is rolled back and every unit of it runs again in a
transaction of its own, so one unit's error (an unknown tenant, a constraint) reaches only its
caller. Units must therefore be safe to run twice after a rollback (plain writes are).

Who calls it: ``store.db.Database.batched`` (which owns one), repositories whose writes come from
many threads at once (``store.rollouts``, ``store.deployments``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

__all__ = ["GroupCommit"]

_T = TypeVar("_T")
#: units committed together at most (a bound on one transaction's size)
MAX_BATCH = 256
#: an idle writer thread exits after this long (a new one starts with the next unit)
_IDLE_SECONDS = 5.0


@dataclass
class _Unit(Generic[_T]):
    work: Callable[[Session], _T]
    done: threading.Event = field(default_factory=threading.Event)
    result: _T | None = None
    error: BaseException | None = None

    def outcome(self) -> _T:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit:
    """Runs units of write work from many threads in shared transactions (see module doc).

    ``session`` opens a write transaction that commits on success (``Database.session``).
    """

    def __init__(self, session: Callable[[], AbstractContextManager[Session]]) -> None:
        self._session = session
        self._cond = threading.Condition()
        self._pending: list[_Unit[Any]] = []
        self._writer: threading.Thread | None = None
        self._closed = False

    def run(self, work: Callable[[Session], _T]) -> _T:
        """Run ``work`` in the next group transaction; return its result once committed."""
        unit: _Unit[_T] = _Unit(work)
        with self._cond:
            if self._closed:
                raise RuntimeError("the group commit is closed")
            self._pending.append(unit)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, name="group-commit", daemon=True
                )
                self._writer.start()
            self._cond.notify()
        return unit.outcome()

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        with self._cond:
            self._closed = True
            writer = self._writer
            self._cond.notify()
        if writer is not None and writer is not threading.current_thread():
            writer.join()

    def _batches(self) -> Iterator[list[_Unit[Any]]]:
        while True:
            with self._cond:
                if not self._pending and not self._closed:
                    self._cond.wait(_IDLE_SECONDS)
                if not self._pending:
                    self._writer = None
                    return
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            yield batch

    def _write_loop(self) -> None:
        for batch in self._batches():
            try:
                self._commit(batch)
            finally:  # whatever happened, no caller waits forever
                for unit in batch:
                    if not unit.done.is_set():
                        unit.error = RuntimeError("the group commit's writer stopped")
                        unit.done.set()

    def _commit(self, batch: list[_Unit[Any]]) -> None:
        results: list[Any] = []
        try:
            with self._session() as session:
                results = [unit.work(session) for unit in batch]
        except Exception as exc:  # noqa: BLE001 (raised again in the caller's thread)
            if len(batch) == 1:  # its own transaction already: the error is its
                batch[0].error = exc
                batch[0].done.set()
                return
            for unit in batch:  # rolled back: each again on its own, errors to their owner
                self._run_alone(unit)
            return
        for unit, result in zip(batch, results, strict=True):
            unit.result = result
            unit.done.set()

    def _run_alone(self, unit: _Unit[Any]) -> None:
        try:
            with self._session() as session:
                unit.result = unit.work(session)
        except Exception as exc:  # noqa: BLE001 (handed to the caller's thread, raised there)
            unit.error = exc
        unit.done.set()
