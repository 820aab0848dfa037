"""SandboxProcess lifecycle: start, stop, deterministic ids, state-dir ownership."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import FAST, alive, client, wait_settled

from stockade.cloud.sandbox.process import SandboxProcess, journal_instance_id, wipe
from stockade.domain.errors import SandboxError

Start = Callable[..., SandboxProcess]


def test_start_answers_and_stop_leaves_no_process(tmp_path: Path) -> None:
    sandbox = SandboxProcess(tmp_path, FAST)
    sandbox.start()
    pid = sandbox.pid
    assert pid is not None and alive(pid)
    identity = client(sandbox, "sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert sandbox.restored_requests == 0
    assert journal_instance_id(tmp_path) == sandbox.instance_id

    sandbox.stop()
    assert not alive(pid)
    sandbox.stop()  # idempotent
    with pytest.raises(SandboxError):
        _ = sandbox.endpoint_url


def _build_fleet(sandbox: SandboxProcess, *, extra_reads: bool) -> dict[str, Any]:
    org = client(sandbox, "organizations")
    organization = org.create_organization(FeatureSet="ALL")["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    if extra_reads:  # reads in between must not shift any id
        org.describe_organization()
        org.list_accounts()
    ou = org.create_organizational_unit(ParentId=root, Name="tenants")["OrganizationalUnit"]
    creations = [
        org.create_account(Email=f"t{i}@example.com", AccountName=f"t{i}")["CreateAccountStatus"]
        for i in range(2)
    ]
    if extra_reads:
        org.list_create_account_status()
    return {
        "org": organization["Id"],
        "root": root,
        "ou": ou["Id"],
        "requests": [c["Id"] for c in creations],
        "accounts": [s["AccountId"] for s in wait_settled(org, [c["Id"] for c in creations])],
    }


def test_same_seed_gives_same_ids(start_sandbox: Start, tmp_path: Path) -> None:
    instant = FAST.model_copy(update={"create_account_delay": 0.0})
    first = start_sandbox(tmp_path / "a", instant)
    second = start_sandbox(tmp_path / "b", instant)
    assert first.instance_id != second.instance_id
    assert _build_fleet(first, extra_reads=False) == _build_fleet(second, extra_reads=True)


def test_other_seed_gives_other_ids(tmp_path: Path) -> None:
    with (
        SandboxProcess(tmp_path / "a", FAST) as first,
        SandboxProcess(tmp_path / "b", FAST.model_copy(update={"seed": 8})) as second,
    ):
        org_a = client(first, "organizations").create_organization(FeatureSet="ALL")
        org_b = client(second, "organizations").create_organization(FeatureSet="ALL")
        pids = [first.pid, second.pid]
    assert org_a["Organization"]["Id"] != org_b["Organization"]["Id"]
    assert not any(alive(pid) for pid in pids if pid is not None)


def test_survives_the_thread_that_started_it(start_sandbox: Start, tmp_path: Path) -> None:
    """Linux sends the parent-death signal when the spawning *thread* ends: not our problem."""
    box: list[SandboxProcess] = []
    worker = threading.Thread(target=lambda: box.append(start_sandbox(tmp_path / "t")))
    worker.start()
    worker.join()
    sandbox = box[0]
    threading.Event().wait(0.5)
    assert sandbox.pid is not None and alive(sandbox.pid)
    assert client(sandbox, "sts").get_caller_identity()["Account"] == "123456789012"


def test_one_sandbox_per_state_dir(start_sandbox: Start, tmp_path: Path) -> None:
    start_sandbox(tmp_path / "s")
    with pytest.raises(SandboxError, match="exited"):
        SandboxProcess(tmp_path / "s", FAST, start_timeout=20).start()
    with pytest.raises(SandboxError, match="running"):
        wipe(tmp_path / "s")


def test_wipe_starts_a_new_instance(start_sandbox: Start, tmp_path: Path) -> None:
    assert journal_instance_id(tmp_path / "w") is None
    sandbox = start_sandbox(tmp_path / "w")
    client(sandbox, "organizations").create_organization(FeatureSet="ALL")
    old = sandbox.instance_id
    sandbox.stop()
    wipe(tmp_path / "w")
    assert journal_instance_id(tmp_path / "w") is None
    again = start_sandbox(tmp_path / "w")
    assert again.instance_id != old
    assert again.restored_requests == 0
