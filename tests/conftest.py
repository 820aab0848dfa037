"""Shared test fixtures: the throwaway PostgreSQL server and database URLs for both backends.

Who uses it: every test that needs a database (the store's tests, and any other layer's tests
that want to run on SQLite and PostgreSQL alike).

- ``pg_url`` (session): starts ``scripts/pg-throwaway`` in a temporary directory and stops it at
  the end. Without PostgreSQL 15 binaries the test is skipped, or fails when ``CI`` is set.
- ``db_url``: parametrized ``sqlite`` (a file in ``tmp_path``) and ``postgres`` (a fresh, empty
  database on the ``pg_url`` server, dropped afterwards). Deselect PostgreSQL with
  ``-m "not postgres"``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_THROWAWAY = ROOT / "scripts" / "pg-throwaway"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a throwaway PostgreSQL server's ``stockade_test`` database (trust auth)."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        _unavailable(f"PostgreSQL 15 binaries not found in {PG_BIN}")
    # mkdtemp under the system temp dir: its parents are enterable by the unprivileged
    # server user (pytest's own tmp dirs are private to root)
    state = Path(tempfile.mkdtemp(prefix="stockade-pg-"))
    started = subprocess.run(
        ["bash", str(PG_THROWAWAY), "start", str(state)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if started.returncode != 0:
        shutil.rmtree(state, ignore_errors=True)
        pytest.fail(f"pg-throwaway start failed: {started.stderr.strip()}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(
            ["bash", str(PG_THROWAWAY), "stop", str(state)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(state, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the throwaway server; dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"t_{uuid.uuid4().hex[:24]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(pg_url, name)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'stockade.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url
