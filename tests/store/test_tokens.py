"""Tests of ``TokenStore``: issue, authenticate, revoke, tenant scopes, auditing, and that only
hashes are stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from stockade.domain.errors import NotFoundError, ValidationError
from stockade.store import AuditLog, Database, TokenStore
from stockade.store.models import ApiTokenRow
from stockade.store.tokens import ROLES, hash_token


def test_create_and_authenticate(tokens: TokenStore) -> None:
    plaintext, info = tokens.create("ci bot", "operator", actor="root")
    assert plaintext.startswith("stk_") and len(plaintext) >= 4 + 43
    assert (info.name, info.role, info.active) == ("ci bot", "operator", True)
    assert info.last_used_at is None
    seen = tokens.authenticate(plaintext)
    assert seen is not None
    assert (seen.id, seen.role) == (info.id, "operator")
    assert seen.last_used_at is not None
    assert tokens.get(info.id).last_used_at == seen.last_used_at


def test_tokens_are_unique(tokens: TokenStore) -> None:
    first, _ = tokens.create("a", "viewer", actor="root")
    second, _ = tokens.create("a", "viewer", actor="root")
    assert first != second


@pytest.mark.parametrize(
    "presented", ["", "stk_", "stk_nope", "Bearer stk_x", "x" * 500, "stk_" + "a" * 300]
)
def test_unknown_tokens_do_not_authenticate(tokens: TokenStore, presented: str) -> None:
    tokens.create("a", "admin", actor="root")
    assert tokens.authenticate(presented) is None


def test_revoked_tokens_do_not_authenticate(tokens: TokenStore) -> None:
    plaintext, info = tokens.create("laptop", "admin", actor="root")
    tokens.revoke(info.id, actor="root")
    assert tokens.authenticate(plaintext) is None
    revoked_at = tokens.get(info.id).revoked_at
    assert revoked_at is not None
    tokens.revoke(info.id, actor="root")  # idempotent, keeps the first time
    assert tokens.get(info.id).revoked_at == revoked_at
    with pytest.raises(NotFoundError):
        tokens.revoke("tok_missing", actor="root")


def test_list_includes_revoked(tokens: TokenStore) -> None:
    _, a = tokens.create("a", "viewer", actor="root")
    _, b = tokens.create("b", "approver", actor="root")
    tokens.revoke(a.id, actor="root")
    listed = {t.id: t for t in tokens.list()}
    assert set(listed) == {a.id, b.id}
    assert not listed[a.id].active and listed[b.id].active


@pytest.mark.parametrize(("name", "role"), [("x", "root"), ("x", ""), ("", "admin")])
def test_invalid_role_or_name(tokens: TokenStore, name: str, role: str) -> None:
    with pytest.raises(ValidationError):
        tokens.create(name, role, actor="root")
    assert tokens.list() == []


def test_every_role_can_be_issued(tokens: TokenStore) -> None:
    for role in sorted(ROLES):
        plaintext, _ = tokens.create(role, role, actor="root")
        info = tokens.authenticate(plaintext)
        assert info is not None and info.role == role


def test_only_the_hash_is_stored(db: Database, tokens: TokenStore) -> None:
    plaintext, info = tokens.create("secret holder", "admin", actor="root")
    secret_part = plaintext.removeprefix("stk_")
    with db.session(write=False) as s:
        rows = s.execute(select(ApiTokenRow.__table__)).all()
    dumped = repr(rows)
    assert secret_part not in dumped
    assert hash_token(plaintext) in dumped
    if db.is_sqlite:
        database_file = db.engine.url.database
        assert database_file is not None
        db.dispose()  # checkpoint the WAL, then read the raw bytes
        raw = b"".join(
            path.read_bytes() for path in Path(database_file).parent.iterdir() if path.is_file()
        )
        assert secret_part.encode() not in raw
    assert tokens.get(info.id).id == info.id


def test_last_used_is_refreshed_at_most_once_a_minute(db: Database, tokens: TokenStore) -> None:
    plaintext, info = tokens.create("a", "viewer", actor="root")
    first = tokens.authenticate(plaintext)
    assert first is not None and first.last_used_at is not None
    again = tokens.authenticate(plaintext)
    assert again is not None
    assert tokens.get(info.id).last_used_at == first.last_used_at
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    with db.session() as s:
        s.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == info.id).values(last_used_at=long_ago)
        )
    later = tokens.authenticate(plaintext)
    assert later is not None and later.last_used_at is not None
    assert later.last_used_at > long_ago + timedelta(minutes=4)
    assert tokens.get(info.id).last_used_at == later.last_used_at


def test_scoped_tokens_keep_their_tenants(tokens: TokenStore) -> None:
    plaintext, info = tokens.create("support", "operator", actor="root", tenants=["b", "a", "a"])
    assert info.tenants == frozenset({"a", "b"})
    seen = tokens.authenticate(plaintext)
    assert seen is not None and seen.tenants == frozenset({"a", "b"})
    assert tokens.get(info.id).tenants == frozenset({"a", "b"})
    _, fleet = tokens.create("ops", "operator", actor="root")
    assert fleet.tenants is None
    assert {t.id: t.tenants for t in tokens.list()} == {info.id: info.tenants, fleet.id: None}


@pytest.mark.parametrize(
    ("role", "tenants", "says"),
    [
        ("operator", [], "at least one tenant"),
        ("operator", ["Not_A_Slug"], "slug"),
        ("viewer", [f"t-{n}" for n in range(101)], "at most 100"),
        ("admin", ["acme"], "admin token cannot be tenant-scoped"),
    ],
)
def test_invalid_scopes_are_refused(
    tokens: TokenStore, audit: AuditLog, role: str, tenants: list[str], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        tokens.create("x", role, actor="root", tenants=tenants)
    assert tokens.list() == []
    assert audit.count() == 0


def test_issue_and_revoke_are_audited_without_the_secret(
    tokens: TokenStore, audit: AuditLog
) -> None:
    plaintext, info = tokens.create("support", "viewer", actor="alice", tenants=["acme"])
    tokens.revoke(info.id, actor="bob")
    tokens.revoke(info.id, actor="carol")  # nothing changes: nothing recorded
    events = audit.list()
    assert [(e.actor, e.action, e.subject) for e in reversed(events)] == [
        ("alice", "token.create", info.id),
        ("bob", "token.revoke", info.id),
    ]
    expected = {"name": "support", "role": "viewer", "tenants": ["acme"]}
    assert all(e.details == expected for e in events)
    dumped = repr(events)
    assert plaintext.removeprefix("stk_") not in dumped
    assert hash_token(plaintext) not in dumped
    assert audit.verify().ok


def test_a_token_is_not_issued_if_its_audit_event_cannot_be(
    tokens: TokenStore, audit: AuditLog
) -> None:
    with pytest.raises(ValidationError, match="actor"):
        tokens.create("x", "viewer", actor="a" * 201)  # too long to be recorded
    assert tokens.list() == []
    assert audit.count() == 0


def test_revoke_returns_the_revoked_token(tokens: TokenStore) -> None:
    _, info = tokens.create("laptop", "viewer", actor="root")
    revoked = tokens.revoke(info.id, actor="root")
    assert (revoked.id, revoked.active) == (info.id, False)
    assert revoked.revoked_at is not None
