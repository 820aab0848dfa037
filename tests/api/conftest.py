"""Fixtures for the API tests: an app over in-memory ports, and a client per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.fake_org import explainer
from api.fake_rollouts import FakeRollouts
from api.fakes import FixedPlans, InMemoryTenants, TokenAuthenticator
from stockade.api.app import create_app


@pytest.fixture
def tenants() -> InMemoryTenants:
    return InMemoryTenants()


@pytest.fixture
def authenticator() -> TokenAuthenticator:
    return TokenAuthenticator()


@pytest.fixture
def plans() -> FixedPlans:
    return FixedPlans()


@pytest.fixture
def rollouts(plans: FixedPlans) -> FakeRollouts:
    return FakeRollouts(plans)


@pytest.fixture
def app(
    tenants: InMemoryTenants,
    plans: FixedPlans,
    rollouts: FakeRollouts,
    authenticator: TokenAuthenticator,
) -> FastAPI:
    return create_app(
        tenants=tenants,
        plans=plans,
        rollouts=rollouts,
        policies=explainer(tenants),
        auth=authenticator,
        version="9.9.9-test",
        poll_interval=0.0,  # event streams read the fake as fast as it changes
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client
