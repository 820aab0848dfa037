"""Who is calling the API: the ``Principal`` and the ``Authenticator`` port the API depends on.

The API only needs to turn a bearer token into a principal (a name, a role, and the tenants a
tenant-scoped token is limited to). The composition root (``stockade.server``) adapts the
store's token store to ``Authenticator``; tests use a small in-memory implementation. Which role
(and which scope) may call which route lives in ``stockade.api.access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol, get_args

Role = Literal["viewer", "operator", "admin", "approver"]

#: every role, in increasing order of what it may change (approver is for break-glass access)
ROLES: Final[tuple[Role, ...]] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``name`` is recorded as the actor of every change it makes.

    ``tenants`` limits a tenant-scoped token (support staff) to those tenants; None: the whole
    fleet."""

    name: str
    role: Role
    tenants: frozenset[str] | None = None

    @property
    def scoped(self) -> bool:
        return self.tenants is not None

    def may_access(self, tenant_id: str) -> bool:
        """Whether this caller may see and act on ``tenant_id`` (roles aside)."""
        return self.tenants is None or tenant_id in self.tenants


class Authenticator(Protocol):
    """Resolves a bearer token (without the ``Bearer`` prefix) to a principal."""

    def authenticate(self, token: str) -> Principal | None:
        """Return the principal the token belongs to, or None if it is unknown, revoked or
        expired. Must not raise for a bad token."""
        ...
