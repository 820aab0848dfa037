"""Fixtures for the sandbox tests: real sandbox server processes, stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sandbox_support import FAST, client

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.settings import SandboxSettings


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[Callable[..., SandboxProcess]]:
    """Start sandboxes on demand; every one is stopped at the end of the test."""
    started: list[SandboxProcess] = []

    def start(state_dir: Path | None = None, settings: SandboxSettings = FAST) -> SandboxProcess:
        sandbox = SandboxProcess(state_dir or tmp_path / f"sandbox{len(started)}", settings)
        started.append(sandbox)
        sandbox.start()
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox with an organization, for tests that do not care about a fresh state."""
    with SandboxProcess(tmp_path_factory.mktemp("shared"), FAST) as sandbox:
        client(sandbox, "organizations").create_organization(FeatureSet="ALL")
        yield sandbox
