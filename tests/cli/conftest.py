"""Fixtures for the CLI tests: the CLI wired to an in-process API app through the client seam
(tokens and the audit trail in a real SQLite store)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from api.fake_access import FakeSessions, access_broker
from api.fake_org import explainer
from api.fake_rollouts import FakeRollouts
from api.fake_scans import FakeScans
from api.fakes import FixedPlans, InMemoryTenants, TokenAuthenticator
from api.store_support import StoreParts, store_fixture  # noqa: F401 (fixture `store`)
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from stockade.api.app import create_app
from stockade.cli.client import StockadeClient
from stockade.cli.context import CliDeps
from stockade.cli.main import build_app
from stockade.server.auth import StoreAuthenticator
from stockade.server.options import UpOptions


class FakeClock:
    """A clock that only moves when the CLI sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 1.0)


@dataclass
class UpRecorder:
    exit_code: int = 0
    calls: list[UpOptions] = field(default_factory=list)

    def __call__(self, options: UpOptions) -> int:
        self.calls.append(options)
        return self.exit_code


@dataclass
class Cli:
    """Runs ``stockade`` in-process; ``env`` is what the CLI sees as its environment."""

    tenants: InMemoryTenants
    plans: FixedPlans
    rollouts: FakeRollouts
    store: StoreParts
    http: TestClient
    clock: FakeClock
    up: UpRecorder
    env: dict[str, str]
    servers: list[str] = field(default_factory=list)

    def deps(self, **overrides: Any) -> CliDeps:
        def client_factory(server: str, token: str | None) -> StockadeClient:
            self.servers.append(server)
            return StockadeClient(server, token=token, http=self.http)

        values: dict[str, Any] = {
            "client_factory": client_factory,
            "run_up": self.up,
            "sleep": self.clock.sleep,
            "clock": self.clock,
            "poll_interval": 2.0,
            "stdout_is_tty": lambda: True,
            "stdin_is_tty": lambda: False,  # as for a script; tests answering prompts say so
            "environ": self.env,
        }
        values.update(overrides)
        return CliDeps(**values)

    def __call__(self, *args: str, input: str | None = None, **overrides: Any) -> Result:
        """Run ``stockade *args``; ``input`` is what the user types, ``overrides`` replace
        ``CliDeps`` fields."""
        return CliRunner().invoke(build_app(self.deps(**overrides)), list(args), input=input)


@pytest.fixture
def tenants() -> InMemoryTenants:
    return InMemoryTenants()


@pytest.fixture
def plans() -> FixedPlans:
    return FixedPlans()


@pytest.fixture
def rollouts(plans: FixedPlans) -> FakeRollouts:
    """Rollouts that move one step each time the API reads one (so following one ends)."""
    return FakeRollouts(plans, advance_on_read=True)


@pytest.fixture
def scans() -> FakeScans:
    return FakeScans()


@pytest.fixture
def sessions() -> FakeSessions:
    return FakeSessions()


@pytest.fixture
def cli(
    tenants: InMemoryTenants,
    plans: FixedPlans,
    rollouts: FakeRollouts,
    store: StoreParts,
    scans: FakeScans,
    sessions: FakeSessions,
) -> Iterator[Cli]:
    app = create_app(
        tenants=tenants,
        plans=plans,
        rollouts=rollouts,
        policies=explainer(tenants),
        tokens=store.tokens,
        audit=store.audit,
        scans=scans,
        access=access_broker(tenants.get_tenant, store, sessions=sessions),
        auth=TokenAuthenticator(fallback=StoreAuthenticator(store.tokens)),
        version="test",
        poll_interval=0.0,
    )
    with TestClient(app) as http:
        yield Cli(
            tenants=tenants,
            plans=plans,
            rollouts=rollouts,
            store=store,
            http=http,
            clock=FakeClock(),
            up=UpRecorder(),
            env={"STOCKADE_TOKEN": "operator-token"},
        )


def one_error_line(result: Result) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: ")
    return lines[0]
