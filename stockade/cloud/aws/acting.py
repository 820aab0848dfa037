"""Acting in a tenant account on a shared client: per-call credentials and account, not a client
per account.

A boto3 client costs about 17 ms of CPU to build and a quarter of a megabyte to keep; one per
tenant account would cost minutes and gigabytes at 6,000 accounts. So ``AwsCloud`` keeps one
client per (service, region) for all tenant accounts, and each call says which account it acts
in: ``TenantAccounts.acting(account_id, role_name)`` is a context manager that assumes the role
(cached until shortly before the credentials expire) and sets a context variable for the
calls made inside it, in this thread only. A ``before-sign`` handler puts the acting
account's credentials on the request (botocore's per-request ``request_credentials``), so the
request is signed as the assumed role; the rate budget and the sandbox hooks read the acting
account from the same variable. A tenant client used outside ``acting`` refuses to sign
rather than fall back to the management account's credentials.

Who calls it: ``cloud.aws.session.AwsCloud`` (building tenant clients and scoping calls).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.credentials import Credentials

from stockade.cloud.aws.sts import assume_role
from stockade.domain.errors import CloudError
from stockade.domain.quotas import STS_CHAINED_MAX_SESSION

__all__ = ["Acting", "TenantAccounts"]

#: refresh assumed-role credentials this long before they expire
REFRESH_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class Acting:
    """The tenant account (and the credentials) the calls in a context act with."""

    account_id: str
    credentials: Credentials


class TenantAccounts:
    """Assumed-role credentials per (account, role), and which one the current context uses."""

    def __init__(
        self,
        *,
        sts: Callable[[], Any],
        session_name: str,
        clock: Callable[[], float],
        max_cached: int = 100_000,
    ) -> None:
        self._sts = sts
        self._session_name = session_name
        self._clock = clock
        self._max_cached = max_cached
        self._current: ContextVar[Acting | None] = ContextVar(
            f"stockade-acting-{id(self)}", default=None
        )
        #: (account, role) -> (POSIX expiry, the credentials botocore signs with)
        self._cache: dict[tuple[str, str], tuple[float, Credentials]] = {}
        self._lock = threading.Lock()

    def current_account(self) -> str | None:
        acting = self._current.get()
        return acting.account_id if acting is not None else None

    @contextmanager
    def acting(self, account_id: str, role_name: str) -> Iterator[None]:
        """Calls on tenant clients inside this block act in ``account_id`` as ``role_name``."""
        token = self._current.set(Acting(account_id, self._credentials(account_id, role_name)))
        try:
            yield
        finally:
            self._current.reset(token)

    def _credentials(self, account_id: str, role_name: str) -> Credentials:
        key = (account_id, role_name)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] - REFRESH_MARGIN_SECONDS > now:
            return cached[1]
        assumed = assume_role(
            self._sts(),
            role_arn=f"arn:aws:iam::{account_id}:role/{role_name}",
            session_name=self._session_name[:64],
            duration_seconds=STS_CHAINED_MAX_SESSION,
        )
        credentials = Credentials(
            assumed.access_key_id, assumed.secret_access_key, assumed.session_token
        )
        with self._lock:
            if len(self._cache) >= self._max_cached:
                self._cache.clear()  # credentials are cheap to assume again; memory is not
            self._cache[key] = (assumed.expiration.timestamp(), credentials)
        return credentials

    def install(self, client: BaseClient) -> None:
        """Sign every request of ``client`` with the acting account's credentials."""
        service = client.meta.service_model.service_id.hyphenize()

        def sign_as_acting(request: Any, **_: Any) -> None:
            acting = self._current.get()
            if acting is None:
                raise CloudError(
                    f"a {service} call for a tenant account was made outside of an account scope",
                    hint="this is a bug in Stockade: tenant calls must run in "
                    "TenantAccounts.acting()",
                )
            request.context.setdefault("signing", {})["request_credentials"] = acting.credentials

        client.meta.events.register(f"before-sign.{service}", sign_as_acting)
