"""The access broker for the API and CLI tests: the real ``AccessBroker`` over the real store,
with the one AWS call (``SessionIssuer.issue_session``) answered by ``FakeSessions``.

``FakeSessions`` records every session asked for (without credentials) and answers with
made-up credentials that name the session; ``refuse`` makes the next call fail as STS would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from api.store_support import StoreParts
from stockade.cloud.ports import IssuedCredentials
from stockade.domain.errors import CloudError
from stockade.domain.spec import AccessRoles
from stockade.domain.tenant import Tenant
from stockade.engine.access import AccessBroker
from stockade.store.access_requests import AccessRequestRepository

#: what the fake's secrets look like, so tests can assert they appear nowhere else
SECRET_PREFIX = "fake-secret-"
TOKEN_PREFIX = "fake-session-token-"


@dataclass(frozen=True)
class SessionCall:
    account_id: str
    role_name: str
    session_name: str
    source_identity: str
    tags: dict[str, str]
    duration_seconds: int


@dataclass
class FakeSessions:
    """``SessionIssuer`` answering with made-up credentials."""

    calls: list[SessionCall] = field(default_factory=list)
    refusals: list[CloudError] = field(default_factory=list)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def refuse(self, error: CloudError) -> None:
        self.refusals.append(error)

    def issue_session(
        self,
        *,
        account_id: str,
        role_name: str,
        session_name: str,
        source_identity: str,
        tags: Mapping[str, str],
        duration_seconds: int,
    ) -> IssuedCredentials:
        if self.refusals:
            raise self.refusals.pop(0)
        number = len(self.calls) + 1
        self.calls.append(
            SessionCall(
                account_id, role_name, session_name, source_identity, dict(tags), duration_seconds
            )
        )
        return IssuedCredentials(
            access_key_id=f"ASIAFAKE{number:012d}",
            secret_access_key=f"{SECRET_PREFIX}{number}",
            session_token=f"{TOKEN_PREFIX}{number}",
            expiration=self.now() + timedelta(seconds=duration_seconds),
            assumed_role_arn=f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        )


@dataclass
class Clock:
    """A settable clock for the broker (expiry tests move it)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def access_broker(
    tenant: Callable[[str], Tenant],
    store: StoreParts,
    *,
    sessions: FakeSessions | None = None,
    clock: Callable[[], datetime] | None = None,
    window: timedelta = timedelta(hours=1),
) -> AccessBroker:
    """The real broker over ``store`` (requests, audit), the fake STS, region us-east-1."""
    return AccessBroker(
        tenant=tenant,
        roles=AccessRoles(),
        region="us-east-1",
        sessions=sessions or FakeSessions(),
        requests=AccessRequestRepository(store.db, store.audit),
        audit=store.audit,
        window=window,
        **({"clock": clock} if clock is not None else {}),
    )
