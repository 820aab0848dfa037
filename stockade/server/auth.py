"""Adapts the store's ``TokenStore`` to the API's ``Authenticator`` port, and keeps the admin
token that ``stockade up`` prints.

Who calls it: ``server.up``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

from stockade.api.auth import Principal, Role
from stockade.store.tokens import TokenStore

ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name


class StoreAuthenticator:
    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens

    def authenticate(self, token: str) -> Principal | None:
        info = self._tokens.authenticate(token)
        if info is None:
            return None
        return Principal(name=info.name, role=cast(Role, info.role), tenants=info.tenants)


def ensure_admin_token(tokens: TokenStore, home: Path) -> str:
    """Reuse the admin token saved in ``home`` if it still works; else create and save one
    (the store records ``token.create`` in the audit trail).

    The file is readable by its owner only; the database keeps only the token's hash.
    """
    path = home / ADMIN_TOKEN_FILE
    if path.exists():
        saved = path.read_text(encoding="utf-8").strip()
        if saved and tokens.authenticate(saved) is not None:
            return saved
    plaintext, _info = tokens.create("admin", "admin", actor="stockade-up")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(plaintext + "\n")
    return plaintext
