"""A ``ScanOperations`` for the API and CLI tests: canned findings, and the scopes asked for."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stockade.domain.credentials import CredentialFinding, FindingKind, Severity
from stockade.engine.scan import AccountScanError, CredentialScan

STARTED = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)

#: one finding of each kind, in two tenants
FINDINGS = (
    CredentialFinding(
        tenant_id="acme",
        account_id="111111111111",
        kind=FindingKind.ROOT_ACCESS_KEY,
        severity=Severity.CRITICAL,
        principal="root",
        reason="the root user has access keys: delete them (root needs none)",
    ),
    CredentialFinding(
        tenant_id="acme",
        account_id="111111111111",
        kind=FindingKind.ACCESS_KEY,
        severity=Severity.HIGH,
        principal="deployer",
        reason="active access key 400 days old (over 90): rotate it",
        access_key_id="AKIAOLDKEY0000000001",
        age_days=400,
        last_used_at=datetime(2026, 1, 30, tzinfo=UTC),
        last_used_service="s3",
    ),
    CredentialFinding(
        tenant_id="globex",
        account_id="222222222222",
        kind=FindingKind.CONSOLE_WITHOUT_MFA,
        severity=Severity.HIGH,
        principal="alice",
        reason="console password without an MFA device: enable MFA or remove the password",
    ),
)


@dataclass
class FakeScans:
    """Scans answer ``findings`` and ``errors`` narrowed to the tenants asked for."""

    findings: tuple[CredentialFinding, ...] = FINDINGS
    errors: tuple[AccountScanError, ...] = ()
    #: the ``tenant_ids`` of every call, in order
    calls: list[frozenset[str] | None] = field(default_factory=list)

    def scan_credentials(self, *, tenant_ids: Collection[str] | None = None) -> CredentialScan:
        wanted = None if tenant_ids is None else frozenset(tenant_ids)
        self.calls.append(wanted)
        findings = tuple(f for f in self.findings if wanted is None or f.tenant_id in wanted)
        errors = tuple(e for e in self.errors if wanted is None or e.tenant_id in wanted)
        accounts = {f.account_id for f in findings} | {e.account_id for e in errors}
        return CredentialScan(
            started_at=STARTED,
            seconds=0.25,
            accounts=len(accounts),
            users=sum(f.principal != "root" for f in findings),
            active_access_keys=sum(f.kind is FindingKind.ACCESS_KEY for f in findings),
            findings=findings,
            errors=errors,
        )
