"""Who is calling the API: the ``Principal`` and the ``Authenticator`` port the API depends on.

The API only needs to turn a bearer token into a principal (a name and a role). The composition
root (``stockade.server``) adapts the store's token store to ``Authenticator``; tests use a small
in-memory implementation. Which role may call which route lives in ``stockade.api.access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol, get_args

Role = Literal["viewer", "operator", "admin", "approver"]

#: every role, in increasing order of what it may change (approver is for break-glass access)
ROLES: Final[tuple[Role, ...]] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``name`` is recorded as the actor of every change it makes."""

    name: str
    role: Role


class Authenticator(Protocol):
    """Resolves a bearer token (without the ``Bearer`` prefix) to a principal."""

    def authenticate(self, token: str) -> Principal | None:
        """Return the principal the token belongs to, or None if it is unknown, revoked or
        expired. Must not raise for a bad token."""
        ...
