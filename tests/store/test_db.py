"""Tests of ``stockade.store.db``: URLs, SQLite settings, sessions, migrations, errors."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import OperationalError

from stockade.domain.errors import StoreError
from stockade.store import Database
from stockade.store.db import normalize_url
from stockade.store.models import MetaRow, TenantRow

TABLES = {"tenants", "audit_events", "api_tokens", "meta"}


def test_migrations_apply_on_an_empty_database(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert db.current_revision() is None
        with pytest.raises(StoreError, match="schema revision none") as info:
            db.check_schema()
        assert "run migrations" in info.value.hint
        db.migrate()
        assert db.current_revision() == db.head_revision()
        db.check_schema()
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        db.migrate()  # idempotent
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_using_an_unmigrated_database_says_to_run_migrations(db_url: str) -> None:
    db = Database(db_url)
    try:
        with pytest.raises(StoreError, match="no Stockade schema") as info, db.session() as s:
            s.execute(select(MetaRow)).all()
        assert "migrat" in info.value.hint
    finally:
        db.dispose()


def test_concurrent_migrations_from_two_processes_agree(db_url: str) -> None:
    first, second = Database(db_url), Database(db_url)
    errors: list[BaseException] = []

    def run(database: Database) -> None:
        try:
            database.migrate()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        first.check_schema()
    finally:
        first.dispose()
        second.dispose()


def test_session_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    with db.session() as s:
        s.add(MetaRow(key="kept", value="1"))
    with pytest.raises(RuntimeError), db.session() as s:
        s.add(MetaRow(key="dropped", value="1"))
        s.flush()
        raise RuntimeError("boom")
    with db.session(write=False) as s:
        assert set(s.scalars(select(MetaRow.key))) == {"kept"}


def test_timestamps_come_back_aware_utc(db: Database) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with db.session() as s:
        s.add(
            TenantRow(
                tenant_id="t",
                name="",
                tier="basic",
                state="requested",
                labels={},
                account_email="t@example.com",
                attempt=1,
                warnings=[],
                created_at=when,
                updated_at=when,
            )
        )
    with db.session(write=False) as s:
        row = s.get(TenantRow, "t")
        assert row is not None
        assert row.created_at == when
        assert row.created_at.utcoffset() is not None


def test_sqlite_settings_and_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "stockade.db"
    db = Database(f"sqlite:///{path}")
    try:
        db.migrate()
        assert path.exists()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        db.dispose()


def test_sqlite_works_from_many_threads(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 's.db'}")
    db.migrate()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                with db.session() as s:
                    s.add(MetaRow(key=f"k{n}-{i}", value="v"))
                with db.session(write=False) as s:
                    s.execute(select(MetaRow)).all()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with db.session(write=False) as s:
            assert len(s.scalars(select(MetaRow.key)).all()) == 250
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg"),
        ("postgres://u@h/d", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
    ],
)
def test_url_normalization(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@h/d", "not a url"])
def test_unsupported_urls_are_store_errors(url: str) -> None:
    with pytest.raises(StoreError):
        Database(url)


def test_password_is_masked_in_url() -> None:
    db = Database("postgresql://user:secret@127.0.0.1:1/db")
    assert "secret" not in db.url


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_postgres_is_a_store_error_with_hint() -> None:
    db = Database(f"postgresql://nobody@127.0.0.1:{_closed_port()}/nothing?connect_timeout=2")
    with pytest.raises(StoreError) as info:
        db.migrate()
    assert "PostgreSQL is running" in info.value.hint
    assert isinstance(info.value.__cause__, OperationalError)
    with pytest.raises(StoreError), db.session(write=False) as s:
        s.execute(text("SELECT 1"))


def test_unopenable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db'}")
    (tmp_path / "db").mkdir()  # a directory where the database file should be
    with pytest.raises(StoreError) as info:
        db.migrate()
    assert isinstance(info.value.__cause__, OperationalError)


def test_sqlite_parent_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        Database(f"sqlite:///{tmp_path / 'file' / 'sub' / 'stockade.db'}")
