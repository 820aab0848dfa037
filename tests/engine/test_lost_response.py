"""CreateAccount is not idempotent at AWS: a lost response must never become a second account.

The engine sends CreateAccount exactly once per step run (no botocore retries); when the answer
is lost, the step's retry finds the first request by account name and adopts it. And when AWS
answers EMAIL_ALREADY_EXISTS because this tenant's account already exists in the organization,
the engine adopts that account instead of failing for ever.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from engine.support import (
    PlaneConfig,
    Planes,
    accounts_with_email,
    org_client,
    wait_for,
    wait_settled,
)
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.server.control import ControlPlane


class LoseCreateAccountResponses:
    """A client hook: the first ``count`` CreateAccount requests reach the sandbox, but their
    answers are lost on the way back (the connection drops)."""

    def __init__(self, count: int) -> None:
        self.remaining = count
        self.sent = 0
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def install(self, client: Any, *, account: Callable[[], str | None]) -> None:
        client.meta.events.register("before-send.organizations.CreateAccount", self._send)

    def _send(self, request: Any, **_: Any) -> None:
        with self._lock:
            self.sent += 1
            if self.remaining == 0:
                return  # let botocore send it as usual
            self.remaining -= 1
        delivered = urllib.request.Request(
            request.url, data=request.body, headers=dict(request.headers.items()), method="POST"
        )
        self._opener.open(delivered).read()
        raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)


@pytest.fixture
def lossy(planes: Planes) -> tuple[ControlPlane, LoseCreateAccountResponses]:
    hook = LoseCreateAccountResponses(count=1)
    return planes.get(PlaneConfig(client_hooks=(hook,))), hook


def test_a_lost_create_account_response_never_creates_a_second_account(
    lossy: tuple[ControlPlane, LoseCreateAccountResponses],
) -> None:
    plane, hook = lossy
    plane.service.create_tenant(TenantRequest(tenant_id="lost", tier="free"), actor="test")
    tenant = wait_settled(plane, ["lost"])["lost"]
    assert tenant.state is TenantState.ACTIVE, tenant.failure_reason
    assert hook.sent == 1  # the lost request was looked up, not sent again
    accounts = accounts_with_email(org_client(plane), "aws+lost@example.com")
    assert [a["Id"] for a in accounts] == [tenant.account_id]


def test_email_already_in_the_organization_is_adopted(plane: ControlPlane) -> None:
    naming = plane.spec.spec.naming
    org = org_client(plane)
    # an earlier, unrecorded request for this tenant's e-mail that succeeded
    request_id = org.create_account(
        Email=naming.email("adopted"), AccountName="created-out-of-band"
    )["CreateAccountStatus"]["Id"]

    def succeeded() -> str | None:
        status = org.describe_create_account_status(CreateAccountRequestId=request_id)
        return status["CreateAccountStatus"].get("AccountId")

    account_id = wait_for(succeeded, timeout=30, what="the out-of-band account")
    plane.service.create_tenant(TenantRequest(tenant_id="adopted", tier="free"), actor="test")
    tenant = wait_settled(plane, ["adopted"])["adopted"]
    assert tenant.state is TenantState.ACTIVE, tenant.failure_reason
    assert tenant.account_id == account_id
    assert len(accounts_with_email(org, naming.email("adopted"))) == 1
