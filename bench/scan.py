"""Benchmark: a credential scan of N tenant accounts against the sandbox, AWS's quotas enforced.

The fleet: N accounts created in the sandbox's organization (CreateAccount sent straight to the
sandbox, so each account holds the org access role as Organizations makes it), recorded as
active tenants in the store directly (N real onboardings would take hours of AWS time: that is
``bench/onboard.py``'s subject), and a small IAM population planted in each through boto3
clients acting in the account: every account a ``deployer`` user with one access key never
used; every 4th an ``admin`` with a console password and no MFA, and a ``viewer`` with a
console password and MFA; every 10th a ``svc`` user with a key created 200 days ago (the
sandbox's credential facts); every 50th root access keys. The baseline is not deployed: moto
signs nothing against IAM policies, so the scan role need not exist for the calls to work
(the engine tests check that scans go through it).

Then ``CredentialScanService.scan_credentials`` reads every account through the scan role, with
the rate budget on every call (``RateBudget.calls`` counts them, AssumeRole included).

Prints one JSON object: ``accounts``, ``seconds``, ``accounts_per_second``, ``api_calls``,
``api_calls_per_account``, ``budget_wait_seconds`` (time calls waited for a token),
``findings`` (total, by severity, by kind), ``errors``, ``users``, ``active_access_keys``,
``concurrency``, ``seed_seconds``, ``peak_rss_bytes`` (this process) and
``sandbox_cpu_seconds`` (the scan's share).

    .venv/bin/python bench/scan.py --accounts 1000 [--concurrency 32]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.config import Config

from stockade.domain.tenant import TenantRequest, TenantState
from stockade.engine.scan import CredentialScanService
from stockade.scaffold import example_spec_path
from stockade.server.control import ControlPlane, start_control_plane
from stockade.settings import SandboxSettings, Settings
from stockade.spec.loader import load_spec

REGION = "us-east-1"
#: client threads seeding the sandbox (it serves one request at a time; this hides the HTTP)
SEEDERS = 8


def _client(plane: ControlPlane, service: str, account_id: str | None = None) -> Any:
    """A boto3 client of the sandbox as the management account, acting in ``account_id``
    (no latency, no quotas: seeding only)."""
    assert plane.sandbox is not None
    return plane.sandbox.client(
        service,
        account_id=account_id,
        region=REGION,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32),
    )


def create_accounts(plane: ControlPlane, count: int) -> list[str]:
    """``count`` accounts in the organization; their ids, once the sandbox lists them."""
    org = _client(plane, "organizations")

    def create(i: int) -> str:
        status = org.create_account(Email=f"aws+scan-{i:05d}@example.com", AccountName=f"s{i}")
        return str(status["CreateAccountStatus"]["Id"])

    with ThreadPoolExecutor(SEEDERS) as pool:
        requests = list(pool.map(create, range(count)))
    accounts: list[str] = []
    for request_id in requests:
        while True:
            status = org.describe_create_account_status(CreateAccountRequestId=request_id)
            state = status["CreateAccountStatus"]
            if state["State"] == "SUCCEEDED":
                accounts.append(str(state["AccountId"]))
                break
            if state["State"] == "FAILED":
                raise RuntimeError(f"CreateAccount failed: {state.get('FailureReason')}")
            time.sleep(0.05)
    return accounts


def plant(plane: ControlPlane, index: int, account_id: str) -> None:
    assert plane.sandbox is not None
    iam = _client(plane, "iam", account_id)
    iam.create_user(UserName="deployer")
    iam.create_access_key(UserName="deployer")
    if index % 4 == 0:
        iam.create_user(UserName="admin")
        iam.create_login_profile(UserName="admin", Password="Correct-Horse-9")
        iam.create_user(UserName="viewer")
        iam.create_login_profile(UserName="viewer", Password="Correct-Horse-9")
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName="viewer")
        iam.enable_mfa_device(
            UserName="viewer",
            SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
    keys = []
    if index % 10 == 0:
        iam.create_user(UserName="svc")
        key = iam.create_access_key(UserName="svc")["AccessKey"]["AccessKeyId"]
        created = (datetime.now(UTC) - timedelta(days=200)).isoformat()
        keys.append({"access_key_id": key, "created": created})
    root = True if index % 50 == 0 else None
    if keys or root:
        plane.sandbox.set_credential_facts(account_id, access_keys=keys, root_access_keys=root)


def seed_tenants(plane: ControlPlane, accounts: list[str]) -> None:
    for i, account_id in enumerate(accounts):
        tenant_id = f"scan-{i:05d}"
        plane.repo.create(
            TenantRequest(tenant_id=tenant_id, tier="free"),
            email=f"aws+scan-{i:05d}@example.com",
            actor="bench",
        )
        plane.repo.transition(tenant_id, TenantState.PROVISIONING, actor="bench")
        plane.repo.record_account(tenant_id, account_id)
        plane.repo.transition(tenant_id, TenantState.ACTIVE, actor="bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="stockade-bench-scan-"))
    sandbox = SandboxSettings(
        time_scale=1.0, latency="off", create_account_delay=0.0, enforce_quotas=True
    )
    plane = start_control_plane(
        Settings(home=home / "state"),
        mode="sandbox",
        spec=load_spec(example_spec_path()),
        sandbox_settings=sandbox,
    )
    try:
        seed_began = time.monotonic()
        accounts = create_accounts(plane, args.accounts)
        with ThreadPoolExecutor(SEEDERS) as pool:
            list(pool.map(lambda item: plant(plane, *item), enumerate(accounts)))
        seed_tenants(plane, accounts)
        seed_seconds = time.monotonic() - seed_began

        scans = CredentialScanService(
            tenants=plane.repo,
            cloud=plane.cloud,
            scan_role=lambda: plane.spec.spec.organization.scan_role,
            concurrency=args.concurrency,
        )
        assert plane.sandbox is not None
        calls0, waited0 = plane.budget.calls, plane.budget.waited_seconds
        sandbox_cpu0 = plane.sandbox.usage().cpu_seconds
        began = time.monotonic()
        scan = scans.scan_credentials()
        seconds = time.monotonic() - began
        calls = plane.budget.calls - calls0
        print(
            json.dumps(
                {
                    "accounts": scan.accounts,
                    "seconds": round(seconds, 2),
                    "accounts_per_second": round(scan.accounts / seconds, 1) if seconds else None,
                    "api_calls": calls,
                    "api_calls_per_account": round(calls / max(scan.accounts, 1), 2),
                    "budget_wait_seconds": round(plane.budget.waited_seconds - waited0, 2),
                    "findings": {
                        "total": len(scan.findings),
                        "by_severity": {s.value: n for s, n in scan.by_severity().items()},
                        "by_kind": {k.value: n for k, n in scan.by_kind().items()},
                    },
                    "errors": len(scan.errors),
                    "users": scan.users,
                    "active_access_keys": scan.active_access_keys,
                    "concurrency": args.concurrency,
                    "seed_seconds": round(seed_seconds, 1),
                    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                    "sandbox_cpu_seconds": round(
                        plane.sandbox.usage().cpu_seconds - sandbox_cpu0, 2
                    ),
                }
            )
        )
        return 0 if not scan.errors else 1
    finally:
        plane.close()


if __name__ == "__main__":
    sys.exit(main())
