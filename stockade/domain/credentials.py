"""Long-lived credentials in tenant accounts: what a scan reads, and which of it is a finding.

In an account-per-tenant fleet nobody should need an IAM user: Stockade and people reach tenant
accounts through roles (the baseline's narrow roles, ``stockade access``). So every long-lived
credential a scan finds is worth a look, and ``classify_account`` says how urgently:

- an **active access key** of an IAM user is always a finding (inactive keys are not: they
  cannot sign anything). ``high`` once it is older than ``rotate_after_days`` (rotate it, or
  better replace it with a role); ``medium`` while it has never been used, or not for
  ``stale_after_days`` (delete it if nothing needs it); ``low`` otherwise (young and in use);
- an IAM user with a **console password and no MFA device** is ``high``;
- **access keys of the root user** (``GetAccountSummary``'s ``AccountAccessKeysPresent``) are
  ``critical``: they can do anything, SCPs aside, and cannot be scoped.

The inventory types (``AccountCredentials`` and what it holds) are what the IAM adapter returns
(``cloud.ports.CredentialsPort``), so the classification stays pure and testable without AWS.

Pure. Who calls it: ``cloud.aws.iam_scan`` (builds the inventory), ``engine.scan`` (classifies
each account), ``api.scan_schemas`` (renders findings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial

__all__ = [
    "AccessKeyRecord",
    "AccountCredentials",
    "CredentialFinding",
    "CredentialThresholds",
    "FindingKind",
    "IamUserRecord",
    "Severity",
    "classify_account",
]

ROOT_PRINCIPAL = "root"
_DAY_SECONDS = 86_400


# -- the inventory of one account ------------------------------------------------------------


@dataclass(frozen=True)
class AccessKeyRecord:
    """One access key of an IAM user, with when it was last used (None: never)."""

    key_id: str
    active: bool
    created_at: datetime
    last_used_at: datetime | None = None
    #: the AWS service it was last used with (e.g. ``s3``), when it has been used
    last_used_service: str | None = None


@dataclass(frozen=True)
class IamUserRecord:
    name: str
    arn: str
    access_keys: tuple[AccessKeyRecord, ...] = ()
    #: the user can sign in to the console (it has a login profile)
    console_password: bool = False
    #: MFA devices of the user; read only for users with a console password (else 0)
    mfa_devices: int = 0


@dataclass(frozen=True)
class AccountCredentials:
    """The IAM users (with their keys, password and MFA) and the root keys of one account."""

    account_id: str
    users: tuple[IamUserRecord, ...]
    #: whether the root user has access keys; None when the account summary was not visible
    root_access_keys: bool | None


# -- findings --------------------------------------------------------------------------------


class FindingKind(StrEnum):
    ACCESS_KEY = "access_key"
    CONSOLE_WITHOUT_MFA = "console_without_mfa"
    ROOT_ACCESS_KEY = "root_access_key"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 (low) .. 3 (critical), for sorting and thresholds."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class CredentialThresholds:
    """The ages (days) that raise an access key's severity."""

    #: an active key older than this is ``high``: rotate it or replace it with a role
    rotate_after_days: int = 90
    #: a key unused for this long (or never used) is ``medium``: probably forgotten
    stale_after_days: int = 90

    def __post_init__(self) -> None:
        if self.rotate_after_days < 1 or self.stale_after_days < 1:
            raise ValueError("credential thresholds must be at least one day")


@dataclass(frozen=True)
class CredentialFinding:
    """One long-lived credential worth a look, in one tenant's account."""

    tenant_id: str
    account_id: str
    kind: FindingKind
    severity: Severity
    #: the IAM user's name, or ``root``
    principal: str
    #: why this severity, and what to do
    reason: str
    access_key_id: str | None = None
    #: whole days since the key was created
    age_days: int | None = None
    last_used_at: datetime | None = None
    last_used_service: str | None = None

    @property
    def identity(self) -> tuple[str, FindingKind, str, str | None]:
        """What the finding is about (account, kind, principal, key): stable across scans."""
        return (self.account_id, self.kind, self.principal, self.access_key_id)


def _days(since: datetime, now: datetime) -> int:
    return max(0, int((now - since).total_seconds() // _DAY_SECONDS))


def _grade_access_key(
    key: AccessKeyRecord, *, now: datetime, thresholds: CredentialThresholds
) -> tuple[Severity, str]:
    """An active access key's severity, and why."""
    age = _days(key.created_at, now)
    idle = None if key.last_used_at is None else _days(key.last_used_at, now)
    if age >= thresholds.rotate_after_days:
        return Severity.HIGH, (
            f"active access key {age} days old (over {thresholds.rotate_after_days}): "
            "rotate it, or replace the user with a role"
        )
    if idle is None:
        return Severity.MEDIUM, "active access key never used: delete it if nothing needs it"
    if idle >= thresholds.stale_after_days:
        return Severity.MEDIUM, (
            f"active access key unused for {idle} days: delete it if nothing needs it"
        )
    return Severity.LOW, f"active access key in use ({age} days old): prefer a role"


def classify_account(
    tenant_id: str,
    credentials: AccountCredentials,
    *,
    now: datetime,
    thresholds: CredentialThresholds | None = None,
) -> tuple[CredentialFinding, ...]:
    """Every finding in one account: root keys first, then by user name and key id."""
    limits = thresholds or CredentialThresholds()
    finding = partial(CredentialFinding, tenant_id, credentials.account_id)
    findings: list[CredentialFinding] = []
    if credentials.root_access_keys:
        findings.append(
            finding(
                FindingKind.ROOT_ACCESS_KEY,
                Severity.CRITICAL,
                ROOT_PRINCIPAL,
                "the root user has access keys: delete them (root needs none)",
            )
        )
    for user in sorted(credentials.users, key=lambda u: u.name):
        if user.console_password and user.mfa_devices == 0:
            findings.append(
                finding(
                    FindingKind.CONSOLE_WITHOUT_MFA,
                    Severity.HIGH,
                    user.name,
                    "console password without an MFA device: enable MFA or remove the password",
                )
            )
        for key in sorted(user.access_keys, key=lambda k: k.key_id):
            if not key.active:
                continue  # an inactive key signs nothing
            severity, reason = _grade_access_key(key, now=now, thresholds=limits)
            findings.append(
                finding(
                    FindingKind.ACCESS_KEY,
                    severity,
                    user.name,
                    reason,
                    access_key_id=key.key_id,
                    age_days=_days(key.created_at, now),
                    last_used_at=key.last_used_at,
                    last_used_service=key.last_used_service,
                )
            )
    return tuple(findings)
