"""Fleet credential scans: every tenant account's long-lived IAM credentials, side by side.

``CredentialScanService.scan_credentials`` reads each account of an active or suspended tenant
(those with an AWS account) through the baseline's scan role (``CloudPort.credentials``), a
bounded number of accounts at a time (a thread pool of ``concurrency`` workers: every AWS call
also waits on the rate budget, per account and operation, so a scan never outruns IAM's
throttling), classifies what it read (``domain.credentials.classify_account``) and returns the
findings with the accounts it could not read: an error in one account (a missing scan role,
throttling that outlasted the SDK's retries) is reported for that account and never stops the
scan. ``progress`` is called after each account, from the scanning threads.

A scan changes nothing in AWS and records nothing: it is a synchronous read, repeated at will.

Who calls it: the API (``POST /api/v1/scans/credentials``) through
``engine.facade.ScanOperations``; ``bench/scan.py``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime

from stockade.cloud.ports import CloudPort
from stockade.domain.credentials import (
    AccountCredentials,
    CredentialFinding,
    CredentialThresholds,
    FindingKind,
    Severity,
    classify_account,
)
from stockade.domain.errors import StockadeError
from stockade.domain.tenant import Tenant, TenantState
from stockade.store.tenants import TenantRepository

__all__ = [
    "SCANNED_STATES",
    "AccountScanError",
    "CredentialScan",
    "CredentialScanService",
    "ScanProgress",
]

log = logging.getLogger("stockade.scan")

#: tenants whose accounts a scan reads (when they have one)
SCANNED_STATES = (TenantState.ACTIVE, TenantState.SUSPENDED)
#: accounts read at once by default: AWS throttles IAM per account, so the scan's speed comes
#: from reading many accounts side by side (each call still waits on its account's budget)
DEFAULT_CONCURRENCY = 32


@dataclass(frozen=True)
class AccountScanError:
    """An account the scan could not read, and why."""

    tenant_id: str
    account_id: str
    code: str
    message: str
    #: a later scan may succeed (throttling, a 5xx)
    transient: bool


@dataclass(frozen=True)
class ScanProgress:
    done: int
    total: int
    tenant_id: str
    ok: bool


@dataclass(frozen=True)
class CredentialScan:
    """One scan of the fleet: findings (most severe first) and the accounts that failed."""

    started_at: datetime
    seconds: float
    #: accounts the scan tried to read
    accounts: int
    #: IAM users and active access keys seen in the accounts read
    users: int
    active_access_keys: int
    findings: tuple[CredentialFinding, ...]
    errors: tuple[AccountScanError, ...]

    @property
    def scanned(self) -> int:
        """Accounts read completely."""
        return self.accounts - len(self.errors)

    @property
    def clean(self) -> bool:
        """Every account was read and none holds a finding."""
        return not self.findings and not self.errors

    def by_severity(self) -> dict[Severity, int]:
        counts = Counter(f.severity for f in self.findings)
        return {severity: counts.get(severity, 0) for severity in Severity}

    def by_kind(self) -> dict[FindingKind, int]:
        counts = Counter(f.kind for f in self.findings)
        return {kind: counts.get(kind, 0) for kind in FindingKind}


@dataclass(frozen=True)
class _AccountResult:
    tenant: Tenant
    credentials: AccountCredentials | None = None
    error: AccountScanError | None = None


class CredentialScanService:
    """``scan_role``: the role to read accounts through (the running spec's
    ``organization.scan_role``)."""

    def __init__(
        self,
        *,
        tenants: TenantRepository,
        cloud: CloudPort,
        scan_role: Callable[[], str],
        concurrency: int = DEFAULT_CONCURRENCY,
        thresholds: CredentialThresholds | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._tenants = tenants
        self._cloud = cloud
        self._scan_role = scan_role
        self._concurrency = concurrency
        self._thresholds = thresholds or CredentialThresholds()
        self._now = now
        self._timer = timer

    def scan_credentials(
        self,
        *,
        tenant_ids: Collection[str] | None = None,
        progress: Callable[[ScanProgress], None] | None = None,
    ) -> CredentialScan:
        """Scan every account of an active or suspended tenant (only ``tenant_ids`` if given;
        ids naming no such tenant are skipped)."""
        started_at, began = self._now(), self._timer()
        wanted = None if tenant_ids is None else frozenset(tenant_ids)
        targets = [
            t
            for t in self._tenants.in_states(SCANNED_STATES)
            if t.account_id is not None and (wanted is None or t.tenant_id in wanted)
        ]
        role = self._scan_role()
        results: list[_AccountResult] = []
        if targets:
            workers = min(self._concurrency, len(targets))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
                futures = [pool.submit(self._read, tenant, role) for tenant in targets]
                for future in as_completed(futures):
                    result = future.result()  # EngineStopping (the process stops) ends the scan
                    results.append(result)
                    if progress is not None:
                        progress(
                            ScanProgress(
                                done=len(results),
                                total=len(targets),
                                tenant_id=result.tenant.tenant_id,
                                ok=result.error is None,
                            )
                        )
        return self._summarize(results, started_at=started_at, seconds=self._timer() - began)

    def _read(self, tenant: Tenant, role: str) -> _AccountResult:
        account_id = tenant.account_id or ""
        try:
            inventory = self._cloud.credentials(account_id=account_id, role_name=role).inventory()
        except StockadeError as exc:
            return _AccountResult(
                tenant,
                error=AccountScanError(
                    tenant.tenant_id, account_id, exc.code, exc.message, exc.transient
                ),
            )
        except Exception as exc:  # one account's surprise never ends the scan
            log.exception("credential scan of %s (%s) failed", tenant.tenant_id, account_id)
            return _AccountResult(
                tenant,
                error=AccountScanError(
                    tenant.tenant_id, account_id, "STK-0000", f"{type(exc).__name__}: {exc}", False
                ),
            )
        return _AccountResult(tenant, credentials=inventory)

    def _summarize(
        self, results: list[_AccountResult], *, started_at: datetime, seconds: float
    ) -> CredentialScan:
        findings: list[CredentialFinding] = []
        errors: list[AccountScanError] = []
        users = keys = 0
        for result in results:
            if result.error is not None:
                errors.append(result.error)
            if result.credentials is None:
                continue
            users += len(result.credentials.users)
            keys += sum(k.active for u in result.credentials.users for k in u.access_keys)
            findings.extend(
                classify_account(
                    result.tenant.tenant_id,
                    result.credentials,
                    now=started_at,
                    thresholds=self._thresholds,
                )
            )
        findings.sort(
            key=lambda f: (
                -f.severity.rank,
                f.tenant_id,
                f.principal,
                f.kind.value,
                f.access_key_id or "",
            )
        )
        errors.sort(key=lambda e: e.tenant_id)
        return CredentialScan(
            started_at=started_at,
            seconds=seconds,
            accounts=len(results),
            users=users,
            active_access_keys=keys,
            findings=tuple(findings),
            errors=tuple(errors),
        )
