"""SIGKILL in the middle of a rollout, then restart: every tenant ends at the target version, and
no stack operation was started twice for one tenant and release (counted in the sandbox's own
log of CloudFormation requests, which survives restarts with its journal). Before that, a SIGTERM
while new tenants' services deploy in the background: the process stops within seconds, quietly,
failing nothing, and the next start finishes those services.

Real processes end to end: ``stockade up`` (API, engine, sandbox child), the ``stockade apply``
CLI against it, SIGKILL, and ``stockade up`` again on the same state.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import yaml

from e2e.support import free_port, kill, run_cli, start_up, tenant_rows, wait_for
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.cloud.sandbox.stacks import StackOperation
from stockade.scaffold import write_scaffold
from stockade.settings import SandboxSettings

TENANTS = 6
#: 10x faster than AWS; a stack operation takes 20 AWS seconds (2 s)
ENV = {
    "STOCKADE_SANDBOX_TIME_SCALE": "10",
    "STOCKADE_SANDBOX_LATENCY": "fast",
    "STOCKADE_SANDBOX_STACK_SECONDS": "20",
}
#: a SIGTERM stops `stockade up` within this (engine drain, sandbox and server stop)
STOP_SECONDS = 15
ROLLOUT = {
    "max_in_flight": 2,
    "jitter_seconds": 0,
    "waves": [{"name": "all", "percent": 100, "max_concurrency": 2, "failure_tolerance": 0}],
}


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            return list(conn.execute(sql))
    except sqlite3.OperationalError:  # not created yet, or no such table yet
        return []


def _service_stacks(db: Path) -> int:
    rows = _query(
        db, "SELECT count(*) FROM stack_deployments WHERE stack_name LIKE 'stockade-svc-%'"
    )
    return int(str(rows[0][0])) if rows else 0


def _services_deployed(db: Path) -> bool:
    """Every tenant's orders stack (every tier has it) is recorded as deployed."""
    sql = "SELECT count(*) FROM stack_deployments WHERE stack_name = 'stockade-svc-orders'"
    rows = _query(db, sql)
    return bool(rows) and int(str(rows[0][0])) == TENANTS


def _bump_orders(spec: Path, version: str) -> None:
    document = yaml.safe_load(spec.read_text())
    document["services"]["orders"]["version"] = version
    spec.write_text(yaml.safe_dump(document, sort_keys=False))


def _apply(workdir: Path, port: int) -> str:
    server = f"http://127.0.0.1:{port}"
    done = run_cli(workdir, "--server", server, "-o", "json", "apply", "--yes", "--no-wait")
    assert done.returncode == 0, done.stdout + done.stderr
    return str(yaml.safe_load(done.stdout)["rollout"]["id"])


def _wait_api(proc: subprocess.Popen[str], port: int) -> None:
    import urllib.request

    def up() -> bool:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return True
        except OSError:
            return False

    wait_for(up, timeout=120, what="the API")


def _sandbox_facts(
    state_dir: Path, accounts: list[str]
) -> tuple[dict[str, str | None], list[StackOperation]]:
    """Each account's orders stack version, and the sandbox's log of stack operations (both
    restored from the journal by a fresh sandbox process)."""
    with SandboxProcess(state_dir, SandboxSettings(time_scale=1000, latency="off")) as sandbox:
        versions: dict[str, str | None] = {}
        for account in accounts:
            cfn = sandbox.client("cloudformation", account_id=account)
            (stack,) = cfn.describe_stacks(StackName="stockade-svc-orders")["Stacks"]
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            versions[account] = tags.get("stockade:version")
        return versions, sandbox.stack_operations()


def test_sigkill_mid_rollout_then_restart_finishes_it_without_repeating_operations(
    tmp_path: Path,
) -> None:
    write_scaffold(tmp_path)
    spec = tmp_path / "stockade.yaml"
    document = yaml.safe_load(spec.read_text())
    document["rollout"] = ROLLOUT
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    db = tmp_path / ".stockade" / "stockade.db"

    # a fleet built by onboarding; SIGTERM while its services still deploy in the background
    booting = start_up(tmp_path, "--demo", str(TENANTS), "--port", str(free_port()), env=ENV)
    try:
        wait_for(lambda: _service_stacks(db) >= 1, timeout=240, what="a first service stack")
        assert not _services_deployed(db)
    finally:
        began = time.monotonic()
        booting.send_signal(signal.SIGTERM)
        output, _ = booting.communicate(timeout=60)
    assert time.monotonic() - began < STOP_SECONDS, output
    assert booting.returncode == 0, output
    assert "Traceback" not in output and "retried" not in output, output
    # tenants still onboarding, or active with services to come: none failed by the stop
    assert "failed" not in {str(row[1]) for row in tenant_rows(db)}

    # the next start finishes those services; then a rollout, killed half way
    port = free_port()
    first = start_up(tmp_path, "--port", str(port), env=ENV)
    try:
        wait_for(lambda: _services_deployed(db), timeout=240, what="the demo fleet's services")
        _bump_orders(spec, "9.9.9")
        rollout_id = _apply(tmp_path, port)

        def some_done() -> bool:
            counts = Counter(
                str(r[0])
                for r in _query(
                    db, f"SELECT status FROM rollout_tenants WHERE rollout_id = '{rollout_id}'"
                )
            )
            return counts["succeeded"] >= 1 and counts["running"] >= 1

        wait_for(some_done, timeout=120, what="a rollout half done")
    finally:
        kill(first, signal.SIGKILL)

    second = start_up(tmp_path, "--port", str(free_port()), env=ENV)
    try:

        def finished() -> str | None:
            rows = _query(db, f"SELECT state FROM rollouts WHERE id = '{rollout_id}'")
            state = str(rows[0][0]) if rows else None
            return state if state in ("completed", "halted", "failed") else None

        assert wait_for(finished, timeout=180, what="the rollout to finish") == "completed"
    finally:
        kill(second, signal.SIGTERM)

    accounts = sorted(str(r[2]) for r in tenant_rows(db))
    assert len(accounts) == TENANTS
    versions, operations = _sandbox_facts(tmp_path / ".stockade" / "sandbox", accounts)
    assert versions == dict.fromkeys(accounts, "9.9.9")
    executed = Counter(
        (op.account_id, op.stack_name)
        for op in operations
        if op.operation == "ExecuteChangeSet"
        and op.change_set_name is not None
        and rollout_id in op.change_set_name
    )
    # one execution per tenant for this release: none was started twice, none is missing
    assert executed == {(account, "stockade-svc-orders"): 1 for account in accounts}
