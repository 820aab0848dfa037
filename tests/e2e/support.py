"""Helpers for end-to-end tests that run `stockade up` as a real process."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.settings import SandboxSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_up(workdir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`stockade up --sandbox ...` in ``workdir`` (its state in ``workdir/.stockade``)."""
    full_env = {**os.environ, "STOCKADE_HOME": str(workdir / ".stockade"), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "stockade.cli.main", "up", "--sandbox", *args],
        cwd=workdir,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_cli(
    workdir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The `stockade` CLI, run to completion in ``workdir`` (its state in ``workdir/.stockade``)."""
    full_env = {**os.environ, "STOCKADE_HOME": str(workdir / ".stockade"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "stockade.cli.main", *args],
        cwd=workdir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command may hold spaces or parentheses: the ppid follows the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def tenant_rows(db_path: Path) -> list[tuple[str, str, str | None, str | None]]:
    """(tenant_id, state, account_id, create_request_id) straight from the SQLite file."""
    if not db_path.exists():
        return []
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as conn:
        try:
            return list(
                conn.execute("SELECT tenant_id, state, account_id, create_request_id FROM tenants")
            )
        except sqlite3.OperationalError:
            return []


def kill(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    proc.send_signal(sig)
    proc.wait(timeout=30)


def org_accounts(state_dir: Path) -> list[dict[str, str]]:
    """Every account of the sandbox organization saved in ``state_dir`` (restored from its
    journal in a fresh sandbox process)."""
    with SandboxProcess(state_dir, SandboxSettings(time_scale=1000, latency="off")) as sandbox:
        client = sandbox.client("organizations")
        accounts: list[dict[str, str]] = []
        for page in client.get_paginator("list_accounts").paginate():
            accounts.extend(page["Accounts"])
        return accounts
