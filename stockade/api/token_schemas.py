"""The JSON of the token routes: the request to issue a token, and a token as the API shows it.

A token's plaintext appears in exactly one document, ``TokenCreated`` (the answer to
``POST /api/v1/tokens``); no document ever carries a token's hash.

Who calls it: ``stockade.api.token_routes``; the CLI reads the same JSON (``cli.tokens``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stockade.api.auth import Role
from stockade.store.tokens import MAX_TOKEN_TENANTS, TokenInfo


class TokenCreate(BaseModel):
    """Body of ``POST /api/v1/tokens``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="who or what holds the token, 1..100 characters")
    role: Role
    tenants: list[str] | None = Field(
        default=None,
        max_length=MAX_TOKEN_TENANTS,
        description="limit the token to these tenants (support staff); omit for the whole "
        "fleet. Not for admin tokens.",
    )

    def scope(self) -> frozenset[str] | None:
        return frozenset(self.tenants) if self.tenants is not None else None


class TokenOut(BaseModel):
    """A token without its secret."""

    id: str
    name: str
    role: str
    tenants: list[str] | None = Field(description="the tenants it is limited to; null: all")
    active: bool
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, info: TokenInfo) -> TokenOut:
        return cls.model_validate(_fields(info))


class TokenCreated(TokenOut):
    """A token just issued: the only document that carries its plaintext."""

    token: str = Field(description="the bearer token: shown this once, only its hash is kept")

    @classmethod
    def issued(cls, plaintext: str, info: TokenInfo) -> TokenCreated:
        return cls.model_validate({"token": plaintext, **_fields(info)})


class TokenList(BaseModel):
    items: list[TokenOut]
    count: int

    @classmethod
    def of(cls, infos: list[TokenInfo]) -> TokenList:
        return cls(items=[TokenOut.of(info) for info in infos], count=len(infos))


def _fields(info: TokenInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "name": info.name,
        "role": info.role,
        "tenants": sorted(info.tenants) if info.tenants is not None else None,
        "active": info.active,
        "created_at": info.created_at,
        "revoked_at": info.revoked_at,
        "last_used_at": info.last_used_at,
    }
