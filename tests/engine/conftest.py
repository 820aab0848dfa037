"""Fixtures for the engine tests: real control planes (SQLite, DBOS, the sandbox), one at a time.

``planes`` (package) hands out the running control plane for a config and stops the previous
one first, so modules that want the same config share one plane and DBOS never runs twice in
this process. ``plane`` is the default one (AWS's quotas enforced, 50x faster).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.support import PlaneConfig, Planes
from stockade.server.control import ControlPlane


@pytest.fixture(scope="package")
def planes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planes]:
    holder = Planes(tmp_path_factory.mktemp("planes"))
    try:
        yield holder
    finally:
        holder.close()


@pytest.fixture
def plane(planes: Planes) -> ControlPlane:
    """The shared default control plane; tests use their own tenant ids."""
    return planes.get(PlaneConfig())
