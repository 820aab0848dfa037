"""The JSON of ``POST /api/v1/scans/credentials``: which tenants to scan, and what was found.

Who calls it: ``stockade.api.scan_routes``; the CLI reads the same JSON (``cli.scan``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stockade.domain.credentials import CredentialFinding, FindingKind, Severity
from stockade.engine.scan import AccountScanError, CredentialScan

#: the most tenants one request may name (a tenant-scoped token holds at most 100)
MAX_SCAN_TENANTS = 1000


class ScanCredentialsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: list[str] | None = Field(
        default=None,
        max_length=MAX_SCAN_TENANTS,
        description="only these tenants; none: every active or suspended tenant (a "
        "tenant-scoped token: its own)",
    )


class FindingOut(BaseModel):
    tenant: str
    account_id: str
    kind: FindingKind = Field(description="access_key, console_without_mfa or root_access_key")
    severity: Severity = Field(description="low, medium, high or critical")
    principal: str = Field(description="the IAM user, or root")
    access_key_id: str | None
    age_days: int | None = Field(description="days since the access key was created")
    last_used_at: datetime | None = Field(description="null: never used (or not a key)")
    last_used_service: str | None
    reason: str = Field(description="why this severity, and what to do")

    @classmethod
    def of(cls, finding: CredentialFinding) -> FindingOut:
        return cls(
            tenant=finding.tenant_id,
            account_id=finding.account_id,
            kind=finding.kind,
            severity=finding.severity,
            principal=finding.principal,
            access_key_id=finding.access_key_id,
            age_days=finding.age_days,
            last_used_at=finding.last_used_at,
            last_used_service=finding.last_used_service,
            reason=finding.reason,
        )


class AccountErrorOut(BaseModel):
    tenant: str
    account_id: str
    code: str
    message: str
    transient: bool = Field(description="true: scanning again later may succeed")

    @classmethod
    def of(cls, error: AccountScanError) -> AccountErrorOut:
        return cls(
            tenant=error.tenant_id,
            account_id=error.account_id,
            code=error.code,
            message=error.message,
            transient=error.transient,
        )


class ScanCounts(BaseModel):
    accounts: int = Field(description="accounts the scan tried to read")
    scanned: int = Field(description="accounts read completely")
    errors: int = Field(description="accounts that could not be read")
    users: int
    active_access_keys: int
    findings: int
    by_severity: dict[Severity, int]
    by_kind: dict[FindingKind, int]


class ScanOut(BaseModel):
    started_at: datetime
    seconds: float
    clean: bool = Field(description="every account read and no finding")
    counts: ScanCounts
    findings: list[FindingOut] = Field(description="most severe first")
    errors: list[AccountErrorOut]

    @classmethod
    def of(cls, scan: CredentialScan) -> ScanOut:
        return cls(
            started_at=scan.started_at,
            seconds=round(scan.seconds, 3),
            clean=scan.clean,
            counts=ScanCounts(
                accounts=scan.accounts,
                scanned=scan.scanned,
                errors=len(scan.errors),
                users=scan.users,
                active_access_keys=scan.active_access_keys,
                findings=len(scan.findings),
                by_severity=scan.by_severity(),
                by_kind=scan.by_kind(),
            ),
            findings=[FindingOut.of(f) for f in scan.findings],
            errors=[AccountErrorOut.of(e) for e in scan.errors],
        )
