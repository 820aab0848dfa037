"""Tests of ``TokenStore``: issue, authenticate, revoke, and that only hashes are stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from stockade.domain.errors import NotFoundError, ValidationError
from stockade.store import Database, TokenStore
from stockade.store.models import ApiTokenRow
from stockade.store.tokens import ROLES, hash_token


def test_create_and_authenticate(tokens: TokenStore) -> None:
    plaintext, info = tokens.create("ci bot", "operator")
    assert plaintext.startswith("stk_") and len(plaintext) >= 4 + 43
    assert (info.name, info.role, info.active) == ("ci bot", "operator", True)
    assert info.last_used_at is None
    seen = tokens.authenticate(plaintext)
    assert seen is not None
    assert (seen.id, seen.role) == (info.id, "operator")
    assert seen.last_used_at is not None
    assert tokens.get(info.id).last_used_at == seen.last_used_at


def test_tokens_are_unique(tokens: TokenStore) -> None:
    first, _ = tokens.create("a", "viewer")
    second, _ = tokens.create("a", "viewer")
    assert first != second


@pytest.mark.parametrize(
    "presented", ["", "stk_", "stk_nope", "Bearer stk_x", "x" * 500, "stk_" + "a" * 300]
)
def test_unknown_tokens_do_not_authenticate(tokens: TokenStore, presented: str) -> None:
    tokens.create("a", "admin")
    assert tokens.authenticate(presented) is None


def test_revoked_tokens_do_not_authenticate(tokens: TokenStore) -> None:
    plaintext, info = tokens.create("laptop", "admin")
    tokens.revoke(info.id)
    assert tokens.authenticate(plaintext) is None
    revoked_at = tokens.get(info.id).revoked_at
    assert revoked_at is not None
    tokens.revoke(info.id)  # idempotent, keeps the first time
    assert tokens.get(info.id).revoked_at == revoked_at
    with pytest.raises(NotFoundError):
        tokens.revoke("tok_missing")


def test_list_includes_revoked(tokens: TokenStore) -> None:
    _, a = tokens.create("a", "viewer")
    _, b = tokens.create("b", "approver")
    tokens.revoke(a.id)
    listed = {t.id: t for t in tokens.list()}
    assert set(listed) == {a.id, b.id}
    assert not listed[a.id].active and listed[b.id].active


@pytest.mark.parametrize(("name", "role"), [("x", "root"), ("x", ""), ("", "admin")])
def test_invalid_role_or_name(tokens: TokenStore, name: str, role: str) -> None:
    with pytest.raises(ValidationError):
        tokens.create(name, role)
    assert tokens.list() == []


def test_every_role_can_be_issued(tokens: TokenStore) -> None:
    for role in sorted(ROLES):
        plaintext, _ = tokens.create(role, role)
        info = tokens.authenticate(plaintext)
        assert info is not None and info.role == role


def test_only_the_hash_is_stored(db: Database, tokens: TokenStore) -> None:
    plaintext, info = tokens.create("secret holder", "admin")
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
    plaintext, info = tokens.create("a", "viewer")
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
