"""Fixtures for the API tests: an app over in-memory ports (tokens and the audit trail in a
real SQLite store), and a client per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.fake_access import Clock, FakeSessions, access_broker
from api.fake_org import explainer
from api.fake_rollouts import FakeRollouts
from api.fake_scans import FakeScans
from api.fakes import FixedPlans, InMemoryTenants, TokenAuthenticator
from api.store_support import StoreParts, store_fixture  # noqa: F401 (fixture `store`)
from stockade.api.app import create_app
from stockade.engine.access import AccessBroker
from stockade.server.auth import StoreAuthenticator
from stockade.store import AuditLog, TokenStore


@pytest.fixture
def tenants() -> InMemoryTenants:
    return InMemoryTenants()


@pytest.fixture
def tokens(store: StoreParts) -> TokenStore:
    return store.tokens


@pytest.fixture
def audit(store: StoreParts) -> AuditLog:
    return store.audit


@pytest.fixture
def authenticator(tokens: TokenStore) -> TokenAuthenticator:
    """The fixed test tokens, then the tokens the app issues."""
    return TokenAuthenticator(fallback=StoreAuthenticator(tokens))


@pytest.fixture
def plans() -> FixedPlans:
    return FixedPlans()


@pytest.fixture
def rollouts(plans: FixedPlans) -> FakeRollouts:
    return FakeRollouts(plans)


@pytest.fixture
def scans() -> FakeScans:
    return FakeScans()


@pytest.fixture
def sessions() -> FakeSessions:
    return FakeSessions()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(
    tenants: InMemoryTenants, store: StoreParts, sessions: FakeSessions, clock: Clock
) -> AccessBroker:
    return access_broker(tenants.get_tenant, store, sessions=sessions, clock=clock)


@pytest.fixture
def app(
    tenants: InMemoryTenants,
    plans: FixedPlans,
    rollouts: FakeRollouts,
    tokens: TokenStore,
    audit: AuditLog,
    access: AccessBroker,
    scans: FakeScans,
    authenticator: TokenAuthenticator,
) -> FastAPI:
    return create_app(
        tenants=tenants,
        plans=plans,
        rollouts=rollouts,
        policies=explainer(tenants),
        tokens=tokens,
        audit=audit,
        scans=scans,
        access=access,
        auth=authenticator,
        version="9.9.9-test",
        poll_interval=0.0,  # event streams read the fake as fast as it changes
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client
