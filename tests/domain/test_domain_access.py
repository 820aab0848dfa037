"""The access broker's pure rules: durations, names and tags STS accepts, who may get which
level, and the break-glass request state machine (expiry, self-approval, single use)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.domain.access import (
    AccessLevel,
    AccessRequest,
    RequestState,
    check_duration,
    check_level_allowed,
    clean_reason,
    format_duration,
    new_request,
    parse_duration,
    session_name,
    session_tags,
    tag_value,
)
from stockade.domain.errors import (
    AccessNotAllowedError,
    AccessRequestClosedError,
    AccessRequestExpiredError,
    ApprovalRequiredError,
    SelfApprovalError,
    ValidationError,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)
STS_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
STS_TAG_VALUE = re.compile(r"[\w .:/=+@-]{0,256}")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("1h", 3600), ("900s", 900), ("45", 2700), ("15M", 900), (" 60 ", 3600)],
)
def test_durations_parse_with_a_bare_number_meaning_minutes(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2h", "14m", "899s", "3601s", "900", "0", "61"])
def test_out_of_range_durations_are_refused_naming_the_flag_and_the_range(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_duration(text, option="--duration")
    assert "--duration" in caught.value.message
    assert "15m..1h (900..3600 s)" in caught.value.message
    assert "out of range" in caught.value.message


@pytest.mark.parametrize("text", ["", "1.5h", "1h30m", "ten", "-5m", "30 minutes"])
def test_malformed_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValidationError, match="is not a duration") as caught:
        parse_duration(text)
    assert "30m" in caught.value.hint


def test_duration_seconds_are_checked_not_clamped() -> None:
    assert check_duration(900) == 900 and check_duration(3600) == 3600
    for bad in (899, 3601, 43_200):
        with pytest.raises(ValidationError, match="duration_seconds"):
            check_duration(bad)
    assert [format_duration(s) for s in (3600, 1800, 1000)] == ["1h", "30m", "1000s"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Jürgen Müller", "J-rgen-M-ller"),
        ("aws:root", "aws-root"),
        ("a", "a-"),
        ("x" * 100, "x" * 64),
    ],
)
def test_session_names_are_what_sts_accepts(name: str, expected: str) -> None:
    assert session_name(name) == expected


@given(st.text(min_size=1, max_size=120))
def test_any_name_becomes_a_valid_session_name(name: str) -> None:
    assert STS_NAME.fullmatch(session_name(name))


@given(st.text(max_size=400))
def test_any_text_becomes_a_valid_tag_value(text: str) -> None:
    assert STS_TAG_VALUE.fullmatch(tag_value(text))


def test_reasons_are_required_bounded_and_sanitized_into_tags() -> None:
    assert clean_reason("  incident\n  #42 ") == "incident #42"
    with pytest.raises(ValidationError, match="required"):
        clean_reason(" \n ")
    with pytest.raises(ValidationError, match="at most 500"):
        clean_reason("x" * 501)
    tags = session_tags("acme", "fix (prod) outage #42 ünïcode", "ar-1")
    assert tags == {
        "stockade:tenant": "acme",
        "stockade:reason": "fix _prod_ outage _42 ünïcode",
        "stockade:request": "ar-1",
    }
    assert len(tag_value("y" * 300)) == 256


@pytest.mark.parametrize(
    ("level", "allowed"),
    [
        (AccessLevel.READONLY, {"viewer", "operator", "admin"}),
        (AccessLevel.OPERATOR, {"operator", "admin"}),
        (AccessLevel.BREAKGLASS, {"operator", "admin"}),
    ],
)
def test_which_api_roles_may_get_which_level(level: AccessLevel, allowed: set[str]) -> None:
    for role in ("viewer", "operator", "admin", "approver"):
        if role in allowed:
            check_level_allowed(level, role)
        else:
            with pytest.raises(AccessNotAllowedError):
                check_level_allowed(level, role)


def _pending() -> AccessRequest:
    return new_request(
        request_id="ar-1",
        tenant_id="acme",
        requester="alice",
        reason="db is down",
        duration_seconds=1800,
        now=T0,
        window=WINDOW,
    )


def test_a_request_is_approved_by_another_approver_then_used_once() -> None:
    request = _pending()
    assert request.state is RequestState.PENDING and request.expires_at == T0 + WINDOW
    later = T0 + timedelta(minutes=50)
    approved = request.approve(approver="bob", approver_role="approver", now=later, window=WINDOW)
    assert approved.state is RequestState.APPROVED
    assert (approved.decided_by, approved.decided_at) == ("bob", later)
    assert approved.expires_at == later + WINDOW  # usable for a full window after approval
    used = approved.use(user="alice", tenant_id="acme", now=later + timedelta(minutes=59))
    assert used.state is RequestState.USED
    with pytest.raises(AccessRequestClosedError, match="used"):
        used.use(user="alice", tenant_id="acme", now=later)
    with pytest.raises(AccessRequestClosedError, match="approved"):
        approved.approve(approver="carol", approver_role="approver", now=later, window=WINDOW)


def test_the_requester_can_never_approve_their_own_request() -> None:
    with pytest.raises(SelfApprovalError) as caught:
        _pending().approve(approver="alice", approver_role="approver", now=T0, window=WINDOW)
    assert caught.value.http_status == 403
    assert "second person" in caught.value.hint


def test_only_approvers_decide() -> None:
    for role in ("viewer", "operator", "admin"):
        with pytest.raises(AccessNotAllowedError):
            _pending().approve(approver="bob", approver_role=role, now=T0, window=WINDOW)
        with pytest.raises(AccessNotAllowedError):
            _pending().deny(approver="bob", approver_role=role, reason="no", now=T0)


def test_nothing_happens_to_a_request_after_it_expired() -> None:
    request = _pending()
    late = T0 + WINDOW
    assert request.due_to_expire(late) and not request.due_to_expire(late - timedelta(seconds=1))
    with pytest.raises(AccessRequestExpiredError):
        request.approve(approver="bob", approver_role="approver", now=late, window=WINDOW)
    with pytest.raises(AccessRequestExpiredError):
        request.deny(approver="bob", approver_role="approver", reason="late", now=late)
    approved = request.approve(approver="bob", approver_role="approver", now=T0, window=WINDOW)
    with pytest.raises(AccessRequestExpiredError):
        approved.use(user="alice", tenant_id="acme", now=T0 + WINDOW)
    assert request.expire().state is RequestState.EXPIRED


def test_a_request_is_used_only_by_its_requester_for_its_tenant_once_approved() -> None:
    request = _pending()
    with pytest.raises(ApprovalRequiredError, match="not approved yet"):
        request.use(user="alice", tenant_id="acme", now=T0)
    approved = request.approve(approver="bob", approver_role="approver", now=T0, window=WINDOW)
    with pytest.raises(AccessNotAllowedError, match="belongs to alice"):
        approved.use(user="mallory", tenant_id="acme", now=T0)
    with pytest.raises(ValidationError, match="not 'globex'"):
        approved.use(user="alice", tenant_id="globex", now=T0)
    denied = request.deny(approver="bob", approver_role="approver", reason=" no ", now=T0)
    assert (denied.state, denied.decision_reason) == (RequestState.DENIED, "no")
    with pytest.raises(AccessRequestClosedError, match="denied"):
        denied.use(user="alice", tenant_id="acme", now=T0)


@pytest.mark.parametrize(
    ("reason", "seconds", "mentions"), [(" ", 900, "required"), ("why", 7200, "out of range")]
)
def test_a_new_request_checks_its_reason_and_duration(
    reason: str, seconds: int, mentions: str
) -> None:
    with pytest.raises(ValidationError, match=mentions):
        new_request(
            request_id="ar-2",
            tenant_id="acme",
            requester="alice",
            reason=reason,
            duration_seconds=seconds,
            now=T0,
        )
