"""Fixtures for the store's tests: a migrated ``Database`` per test and its repositories.

Who uses it: the tests in ``tests/store``. ``db`` follows ``db_url`` (tests/conftest.py), so
every test that takes it runs once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stockade.store import (
    AuditLog,
    Database,
    DeploymentRepository,
    MetaStore,
    OverridesRepository,
    ReleaseRepository,
    RolloutRepository,
    TenantRepository,
    TokenStore,
)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def audit(db: Database) -> AuditLog:
    return AuditLog(db)


@pytest.fixture
def tenants(db: Database, audit: AuditLog) -> TenantRepository:
    return TenantRepository(db, audit)


@pytest.fixture
def tokens(db: Database, audit: AuditLog) -> TokenStore:
    return TokenStore(db, audit)


@pytest.fixture
def meta(db: Database) -> MetaStore:
    return MetaStore(db)


@pytest.fixture
def releases(db: Database, audit: AuditLog) -> ReleaseRepository:
    return ReleaseRepository(db, audit)


@pytest.fixture
def overrides(db: Database, audit: AuditLog) -> OverridesRepository:
    return OverridesRepository(db, audit)


@pytest.fixture
def deployments(db: Database) -> DeploymentRepository:
    return DeploymentRepository(db)


@pytest.fixture
def rollouts(db: Database, audit: AuditLog) -> RolloutRepository:
    return RolloutRepository(db, audit)
