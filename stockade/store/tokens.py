"""Bearer tokens for Stockade's own API: issue, authenticate, list and revoke.

Who calls it: the API's authenticator (``authenticate`` on every request, through
``server.auth.StoreAuthenticator``), the server at first start (the admin token) and the token
routes (``api.token_routes``, through ``engine.facade.TokenOperations``). Only the sha256 of a
token is stored; the plaintext (``stk_`` + 32 random bytes, URL-safe base64) is returned once
by ``create``. Issuing and revoking append ``token.create`` / ``token.revoke`` to the audit
trail in the same transaction (name, role and tenants: never the token or its hash).

A token may be limited to a set of tenants (``tenants``; None: every tenant). The store only
records the set; the API decides what a scoped token may call (``api.access``).
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from stockade.domain.errors import NotFoundError, ValidationError
from stockade.domain.tenant import validate_tenant_id
from stockade.store.audit import AuditLog
from stockade.store.db import Database
from stockade.store.models import ApiTokenRow

TOKEN_PREFIX = "stk_"  # noqa: S105 (a prefix, not a secret)
ROLES = frozenset({"viewer", "operator", "admin", "approver"})
#: the most tenants one token may be limited to (a support engineer's accounts, not a fleet)
MAX_TOKEN_TENANTS = 100
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
    #: the tenants the token is limited to; None: every tenant
    tenants: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def check_token_tenants(role: str, tenants: Iterable[str] | None) -> frozenset[str] | None:
    """The validated tenant scope of a new token (None: every tenant); ValidationError if a
    tenant id is malformed, the set is empty or too large, or the role cannot be scoped."""
    if tenants is None:
        return None
    scope = frozenset(tenants)
    if not scope:
        raise ValidationError(
            "a tenant-scoped token needs at least one tenant",
            hint="name tenants, or give none for a token that reaches every tenant",
        )
    if len(scope) > MAX_TOKEN_TENANTS:
        raise ValidationError(
            f"a token may be limited to at most {MAX_TOKEN_TENANTS} tenants, got {len(scope)}",
            hint="issue several tokens, or an unscoped one",
        )
    for tenant_id in sorted(scope):
        validate_tenant_id(tenant_id)
    if role == "admin":
        raise ValidationError(
            "an admin token cannot be tenant-scoped: admin routes are fleet-wide",
            hint="issue a scoped operator (or viewer) token instead",
        )
    return scope


def _to_info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        tenants=frozenset(row.tenants) if row.tenants is not None else None,
    )


class TokenStore:
    """The ``api_tokens`` table; issuing and revoking are audited through ``audit``."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def create(
        self, name: str, role: str, *, actor: str, tenants: Iterable[str] | None = None
    ) -> tuple[str, TokenInfo]:
        """Issue a token for ``actor``, limited to ``tenants`` if given. Returns (plaintext,
        info): show the plaintext once, it is not kept. ValidationError for a bad name, role
        or tenant list (see ``check_token_tenants``)."""
        if role not in ROLES:
            raise ValidationError(
                f"unknown role {role!r}", hint="roles: " + ", ".join(sorted(ROLES))
            )
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError("a token name must be 1..100 characters")
        scope = check_token_tenants(role, tenants)
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(
            id="tok_" + secrets.token_hex(8),
            name=name,
            role=role,
            token_hash=hash_token(plaintext),
            created_at=datetime.now(UTC),
            tenants=sorted(scope) if scope is not None else None,
        )
        with self._db.session() as session:
            session.add(row)
            session.flush()
            info = _to_info(row)
            self._audit.append_in(session, actor, "token.create", info.id, _details(info))
        return plaintext, info

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
            info = replace(info, last_used_at=now)
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

    def revoke(self, token_id: str, *, actor: str) -> TokenInfo:
        """Revoke a token for good and return it. Revoking a revoked token changes nothing
        (and records nothing). NotFoundError if there is no such token."""
        with self._db.session() as session:
            row = session.get(ApiTokenRow, token_id, with_for_update=True)
            if row is None:
                raise _not_found(token_id)
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
                session.flush()
                info = _to_info(row)
                self._audit.append_in(session, actor, "token.revoke", info.id, _details(info))
            return _to_info(row)


def _details(info: TokenInfo) -> dict[str, object]:
    """What the audit trail records of a token: never the token or its hash."""
    tenants = sorted(info.tenants) if info.tenants is not None else None
    return {"name": info.name, "role": info.role, "tenants": tenants}


def _not_found(token_id: str) -> NotFoundError:
    return NotFoundError(
        f"API token {token_id!r} does not exist", hint="list tokens with `stockade token list`"
    )
