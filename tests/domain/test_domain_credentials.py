"""Which long-lived credentials are findings, and how severe (``domain.credentials``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockade.domain.credentials import (
    AccessKeyRecord,
    AccountCredentials,
    CredentialThresholds,
    FindingKind,
    IamUserRecord,
    Severity,
    classify_account,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "111122223333"


def _ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _key(
    key_id: str, *, age: float, used: float | None = None, active: bool = True
) -> AccessKeyRecord:
    return AccessKeyRecord(
        key_id=key_id,
        active=active,
        created_at=_ago(age),
        last_used_at=None if used is None else _ago(used),
        last_used_service=None if used is None else "s3",
    )


def _user(name: str, *keys: AccessKeyRecord, console: bool = False, mfa: int = 0) -> IamUserRecord:
    return IamUserRecord(
        name=name,
        arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
        access_keys=keys,
        console_password=console,
        mfa_devices=mfa,
    )


def _classify(*users: IamUserRecord, root: bool | None = False) -> list[tuple[str, str, str]]:
    account = AccountCredentials(ACCOUNT, users, root)
    return [
        (f.principal, f.kind.value, f.severity.value)
        for f in classify_account("acme", account, now=NOW)
    ]


@pytest.mark.parametrize(
    ("key", "severity"),
    [
        (_key("AKIAOLDUSED", age=400, used=1), Severity.HIGH),
        (_key("AKIAOLDNEVER", age=90, used=None), Severity.HIGH),
        (_key("AKIANEWNEVER", age=0.5, used=None), Severity.MEDIUM),
        (_key("AKIANEWUSED", age=10, used=2), Severity.LOW),
        (_key("AKIAIDLE", age=89, used=89), Severity.LOW),
    ],
    ids=["old-used", "old-never-used", "new-never-used", "new-used", "young-idle"],
)
def test_every_active_access_key_is_a_finding_graded_by_age_and_use(
    key: AccessKeyRecord, severity: Severity
) -> None:
    (finding,) = classify_account(
        "acme", AccountCredentials(ACCOUNT, (_user("ci", key),), False), now=NOW
    )
    assert finding.kind is FindingKind.ACCESS_KEY
    assert finding.severity is severity
    assert finding.access_key_id == key.key_id
    assert finding.age_days == int((NOW - key.created_at).total_seconds() // 86400)
    assert finding.last_used_at == key.last_used_at
    assert finding.tenant_id == "acme" and finding.account_id == ACCOUNT


def test_a_key_unused_for_the_stale_threshold_is_medium() -> None:
    key = _key("AKIASTALE", age=50, used=40)
    account = AccountCredentials(ACCOUNT, (_user("ci", key),), False)
    (finding,) = classify_account(
        "acme", account, now=NOW, thresholds=CredentialThresholds(stale_after_days=30)
    )
    assert finding.severity is Severity.MEDIUM
    assert "unused for 40 days" in finding.reason


def test_inactive_keys_clean_users_and_console_users_with_mfa_are_not_findings() -> None:
    assert (
        _classify(
            _user("clean"),
            _user("retired", _key("AKIAINACTIVE", age=900, active=False)),
            _user("alice", console=True, mfa=1),
        )
        == []
    )


def test_a_console_password_without_mfa_is_high() -> None:
    assert _classify(_user("bob", console=True)) == [("bob", "console_without_mfa", "high")]


def test_root_access_keys_are_critical_and_unknown_root_keys_are_no_finding() -> None:
    assert _classify(root=True) == [("root", "root_access_key", "critical")]
    assert _classify(root=None) == []


def test_findings_come_root_first_then_by_user_and_key() -> None:
    found = _classify(
        _user("zed", _key("AKIAZ2", age=1, used=1), _key("AKIAZ1", age=1, used=1)),
        _user("amy", _key("AKIAA1", age=100, used=1), console=True),
        root=True,
    )
    assert found == [
        ("root", "root_access_key", "critical"),
        ("amy", "console_without_mfa", "high"),
        ("amy", "access_key", "high"),
        ("zed", "access_key", "low"),
        ("zed", "access_key", "low"),
    ]


def test_thresholds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        CredentialThresholds(rotate_after_days=0)


def test_severities_rank_low_to_critical() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2, 3]
    assert max(Severity, key=lambda s: s.rank) is Severity.CRITICAL
