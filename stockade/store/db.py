"""The database handle: engine creation, sessions, migrations and error translation.

Who calls it: the composition root (``stockade.server``) builds one ``Database`` per process and
passes it to the repositories (``TenantRepository``, ``AuditLog``, ``TokenStore``,
``MetaStore``); tests build their own. Nothing here is global: the engine lives on the object.

SQLite (the default) runs in WAL mode with ``synchronous=NORMAL`` and a busy timeout, and every
write session starts with ``BEGIN IMMEDIATE`` so a read-check-write is atomic across the many
workflow threads (SQLite serializes writers; readers keep reading under WAL). PostgreSQL runs
through psycopg 3; repositories lock rows with ``SELECT ... FOR UPDATE`` there.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from stockade.domain.errors import StoreBusyError, StoreError
from stockade.store.group_commit import GroupCommit

_T = TypeVar("_T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: SQLite waits this long for another writer before giving up with "database is locked"
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: pg_advisory_xact_lock key serializing concurrent ``migrate()`` calls (any fixed bigint)
_MIGRATE_LOCK_KEY = 0x5354_4B4D_4947  # "STKMIG"
_IMMEDIATE = "stockade_begin_immediate"
#: PostgreSQL SQLSTATEs that mean "a concurrent transaction got in the way; retry":
#: serialization failure, deadlock, lock not available
_PG_RETRYABLE = frozenset({"40001", "40P01", "55P03"})


def normalize_url(url: str) -> URL:
    """Parse ``url``; plain ``postgresql://`` (or ``postgres://``) gets the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"database URL {url!r} is not a valid SQLAlchemy URL",
            hint="use sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
        ) from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"database backend {parsed.get_backend_name()!r} is not supported",
            hint="use sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
        )
    return parsed


class Database:
    """One database: an engine, session factories and the schema migrations."""

    def __init__(
        self, url: str, *, pool_size: int = 10, max_overflow: int = 40, echo: bool = False
    ) -> None:
        self._url = normalize_url(url)
        self.backend = self._url.get_backend_name()
        try:
            self._engine = self._create_engine(
                pool_size=pool_size, max_overflow=max_overflow, echo=echo
            )
        except (ArgumentError, ImportError) as exc:
            raise StoreError(
                f"cannot use database URL {self.url}: {exc}",
                hint="use sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create the directory of the database at {self.url}: {exc}",
                hint="check the path and its permissions (STOCKADE_HOME / STOCKADE_DATABASE_URL)",
            ) from exc
        # connections from this engine start SQLite transactions with BEGIN IMMEDIATE
        self._write_engine = self._engine.execution_options(**{_IMMEDIATE: True})
        self._read_sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)
        # SQLite has one writer at a time; threads of this process queue on this lock (a fair
        # hand-over) instead of on SQLite's busy handler, which sleeps in steps of up to 100 ms
        # and collapses write throughput when dozens of threads write at once
        self._write_lock = threading.RLock() if self.backend == "sqlite" else None
        self._group = GroupCommit(self.session)

    # -- construction --------------------------------------------------------------------

    def _create_engine(self, *, pool_size: int, max_overflow: int, echo: bool) -> Engine:
        if self.backend == "postgresql":
            return create_engine(
                self._url,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
                echo=echo,
            )
        database = self._url.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}, "echo": echo}
        if in_memory:
            # one shared connection: fine for single-threaded tests, nothing else
            kwargs["poolclass"] = pool.StaticPool
        else:
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        engine = create_engine(self._url, **kwargs)
        _install_sqlite_hooks(engine)
        return engine

    # -- public API ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The normalized URL with the password masked (safe to log and show)."""
        return str(self._url.render_as_string(hide_password=True))

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commits when the block succeeds, rolls back when it raises.

        ``write=True`` (the default) takes SQLite's write lock up front (``BEGIN IMMEDIATE``),
        so everything read inside the block stays true until commit; writers of this process
        queue on an in-process lock first. Pass ``write=False`` for
        read-only blocks: they never wait for writers. On PostgreSQL both are the same; lock
        rows explicitly (``with_for_update``) where a read decides a write.
        """
        factory = self._write_sessions if write else self._read_sessions
        lock = self._write_lock if write and self._write_lock is not None else nullcontext()
        with lock, self.translate_errors(), factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn "cannot reach / locked / no schema" driver errors into ``StoreError``."""
        try:
            yield
        except (OperationalError, InterfaceError, ProgrammingError) as exc:
            translated = self._translate(exc)
            if translated is None:
                raise
            raise translated from exc

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic ``upgrade head``). Idempotent."""
        with self.translate_errors(), self._write_engine.begin() as connection:
            if self.backend == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK_KEY}
                )
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        """The schema revision recorded in the database, or None for an empty database."""
        with self.translate_errors(), self._engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            connection.rollback()
            return revision

    def head_revision(self) -> str:
        """The newest revision this version of Stockade ships."""
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None, "the store ships at least one migration"
        return head

    def check_schema(self) -> None:
        """Raise ``StoreError`` unless the database is at the revision this code expects."""
        current = self.current_revision()
        head = self.head_revision()
        if current == head:
            return
        known = {
            rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
        }
        if current is not None and current not in known:
            raise StoreError(
                f"the database at {self.url} has schema revision {current}, "
                "which this version of Stockade does not know",
                hint="the database was migrated by a newer Stockade: upgrade Stockade",
            )
        raise StoreError(
            f"the database at {self.url} is at schema revision {current or 'none (empty)'}, "
            f"this version of Stockade needs {head}",
            hint="run migrations: Database.migrate() (the server runs them on start)",
        )

    def batched(self, work: Callable[[Session], _T]) -> _T:
        """Run the write ``work`` in a transaction shared with other threads' (group commit,
        ``store.group_commit``); return its result once committed. For small writes made by
        many threads at once; ``work`` may run twice if another unit of its batch fails."""
        return self._group.run(work)

    def dispose(self) -> None:
        """Close every pooled connection. The object can still be used afterwards."""
        self._engine.dispose()

    # -- helpers -------------------------------------------------------------------------

    def _translate(
        self, exc: OperationalError | InterfaceError | ProgrammingError
    ) -> StoreError | None:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        lowered = detail.lower()
        if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
            return StoreError(
                f"the database at {self.url} has no Stockade schema: {detail}",
                hint="run migrations: Database.migrate() (the server runs them on start)",
            )
        if isinstance(exc, ProgrammingError):
            return None  # a bug in a query, not the database's state: keep the real error
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if sqlstate in _PG_RETRYABLE or "locked" in lowered or "busy" in lowered:
            return StoreBusyError(
                f"the database at {self.url} could not finish a transaction because of a "
                f"concurrent one: {detail}",
                hint="retrying the operation can succeed; if this persists, look for a "
                "long-running transaction",
            )
        if self.is_sqlite:
            hint = "check that the file's directory exists and is writable"
        else:
            hint = "check that PostgreSQL is running and that the database URL is right"
        return StoreError(f"cannot use the database at {self.url}: {detail}", hint=hint)


def _alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed at runtime."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL. SQLite does not apply busy_timeout to this switch, so two
    connections opening a new file at once can see "database is locked": wait and retry."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _install_sqlite_hooks(engine: Engine) -> None:
    """Pragmas on every new connection, and explicit BEGIN so SQLite transactions are real."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # autocommit at the driver level: SQLAlchemy's "begin" hook below emits BEGIN itself
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
