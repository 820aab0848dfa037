"""Bearer tokens for Stockade's own API: issue, authenticate, list and revoke.

Who calls it: the API's auth dependency (``authenticate`` on every request), the server at first
start (the admin token) and the token admin routes. Only the sha256 of a token is stored; the
plaintext (``stk_`` + 32 random bytes, URL-safe base64) is returned once by ``create``.
Auditing token issue and revocation is the caller's job (``AuditLog.append``).
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from stockade.domain.errors import NotFoundError, ValidationError
from stockade.store.db import Database
from stockade.store.models import ApiTokenRow

TOKEN_PREFIX = "stk_"  # noqa: S105 (a prefix, not a secret)
ROLES = frozenset({"viewer", "operator", "admin", "approver"})
#: ``last_used_at`` is refreshed at most this often, so authentication rarely writes
LAST_USED_RESOLUTION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token, without the token itself."""

    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _to_info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class TokenStore:
    """The ``api_tokens`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, role: str) -> tuple[str, TokenInfo]:
        """Issue a token. Returns (plaintext, info): show the plaintext once, it is not kept."""
        if role not in ROLES:
            raise ValidationError(
                f"unknown role {role!r}", hint="roles: " + ", ".join(sorted(ROLES))
            )
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError("a token name must be 1..100 characters")
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(
            id="tok_" + secrets.token_hex(8),
            name=name,
            role=role,
            token_hash=hash_token(plaintext),
            created_at=datetime.now(UTC),
        )
        with self._db.session() as session:
            session.add(row)
            session.flush()
            return plaintext, _to_info(row)

    def authenticate(self, plaintext: str) -> TokenInfo | None:
        """The token's info if ``plaintext`` is a live token, else None (unknown or revoked).

        The lookup is by sha256 of the presented token, so response time does not depend on
        how much of a stored token it matches; the final comparison is constant-time anyway.
        """
        if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > _MAX_TOKEN_LENGTH:
            return None
        digest = hash_token(plaintext)
        with self._db.session(write=False) as session:
            row = session.scalars(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == digest)
            ).first()
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                return None
            if row.revoked_at is not None:
                return None
            info = _to_info(row)
        now = datetime.now(UTC)
        if info.last_used_at is None or now - info.last_used_at >= LAST_USED_RESOLUTION:
            stale = now - LAST_USED_RESOLUTION
            with self._db.session() as session:
                session.execute(
                    update(ApiTokenRow)
                    .where(ApiTokenRow.id == info.id)
                    .where(
                        or_(ApiTokenRow.last_used_at.is_(None), ApiTokenRow.last_used_at <= stale)
                    )
                    .values(last_used_at=now)
                )
            info = TokenInfo(info.id, info.name, info.role, info.created_at, None, now)
        return info

    def get(self, token_id: str) -> TokenInfo:
        with self._db.session(write=False) as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise _not_found(token_id)
            return _to_info(row)

    def list(self) -> builtins.list[TokenInfo]:
        """Every token, revoked ones included, oldest first."""
        query = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        with self._db.session(write=False) as session:
            return [_to_info(row) for row in session.scalars(query)]

    def revoke(self, token_id: str) -> None:
        """Revoke a token for good. Revoking a revoked token changes nothing."""
        with self._db.session() as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise _not_found(token_id)
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)


def _not_found(token_id: str) -> NotFoundError:
    return NotFoundError(
        f"API token {token_id!r} does not exist", hint="list tokens to find its id"
    )
