"""The access broker over a real control plane and its sandbox: credentials that work in the
tenant's account as the baseline's role and the person's session, break-glass end to end (with
an injected clock for expiry), and the done-when check: a ``~/.aws/config`` profile whose
``credential_process`` runs the real CLI against a real API server, used by boto3."""

from __future__ import annotations

import shlex
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from api.fake_access import Clock

from engine.support import REGION, PlaneConfig, Planes, wait_settled
from stockade.domain.access import AccessLevel, RequestState
from stockade.domain.errors import (
    AccessRequestClosedError,
    AccessRequestExpiredError,
    CloudError,
    SelfApprovalError,
)
from stockade.domain.tenant import Tenant, TenantRequest
from stockade.engine.access import AccessAsk, AccessBroker
from stockade.server.control import ControlPlane
from stockade.server.up import serve_api
from stockade.store.access_requests import AccessRequestRepository

TENANT = "access-one"


@pytest.fixture(scope="module")
def plane(planes: Planes) -> ControlPlane:
    return planes.get(PlaneConfig())


@pytest.fixture(scope="module")
def tenant(plane: ControlPlane) -> Tenant:
    if plane.repo.find(TENANT) is None:
        plane.service.create_tenant(TenantRequest(tenant_id=TENANT, tier="free"), actor="test")
    settled = wait_settled(plane, [TENANT], timeout=60)[TENANT]
    assert settled.account_id is not None, settled.failure_reason
    return settled


def _caller_identity(plane: ControlPlane, credentials: Any) -> dict[str, Any]:
    assert plane.sandbox is not None
    sts = boto3.client(  # type: ignore[call-overload]
        "sts",
        endpoint_url=plane.sandbox.endpoint_url,
        region_name=REGION,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    identity: dict[str, Any] = sts.get_caller_identity()
    return identity


def _ask(level: AccessLevel, actor: str = "alice@example.com", **extra: Any) -> AccessAsk:
    role = "viewer" if level is AccessLevel.READONLY else "operator"
    return AccessAsk(TENANT, level, "investigating", actor=actor, api_role=role, **extra)


def test_readonly_credentials_act_in_the_tenant_account_as_the_person(
    plane: ControlPlane, tenant: Tenant
) -> None:
    issued = plane.access.issue(_ask(AccessLevel.READONLY, duration_seconds=900))
    identity = _caller_identity(plane, issued.credentials)
    assert identity["Account"] == tenant.account_id
    assert ":assumed-role/StockadeReadOnlyRole/alice@example.com" in identity["Arn"]
    assert "secret" not in repr(issued.credentials).lower()
    [event] = plane.audit.list(action="access.issue", subject=TENANT, limit=1)
    assert event.details["access_key_id"] == issued.credentials.access_key_id
    assert issued.credentials.secret_access_key not in str(event.details)


def test_the_sandbox_refuses_a_session_longer_than_the_role_allows(
    plane: ControlPlane, tenant: Tenant
) -> None:
    assert tenant.account_id is not None
    with pytest.raises(CloudError, match="MaxSessionDuration"):
        plane.cloud.issue_session(
            account_id=tenant.account_id,
            role_name="StockadeReadOnlyRole",
            session_name="alice",
            source_identity="alice",
            tags={"stockade:tenant": TENANT},
            duration_seconds=7200,
        )


def test_break_glass_end_to_end(plane: ControlPlane, tenant: Tenant) -> None:
    clock = Clock()
    broker = AccessBroker(
        tenant=plane.repo.get,
        roles=plane.spec.spec.organization.access_roles,
        region=plane.spec.spec.home_region,
        sessions=plane.cloud,
        requests=AccessRequestRepository(plane.db, plane.audit),
        audit=plane.audit,
        clock=clock,
    )

    def ask(reason: str = "prod is down") -> str:
        request = broker.request(
            tenant_id=TENANT, reason=reason, actor="alice", api_role="operator"
        )
        return request.request_id

    rid = ask()
    with pytest.raises(SelfApprovalError):
        broker.approve(rid, actor="alice", api_role="approver")
    broker.approve(rid, actor="bob", api_role="approver")
    issued = broker.issue(_ask(AccessLevel.BREAKGLASS, actor="alice", request_id=rid))
    arn = _caller_identity(plane, issued.credentials)["Arn"]
    assert ":assumed-role/StockadeBreakGlassRole/alice" in arn
    assert broker.get_request(rid).state is RequestState.USED
    with pytest.raises(AccessRequestClosedError):
        broker.issue(_ask(AccessLevel.BREAKGLASS, actor="alice", request_id=rid))

    denied = ask("just curious")
    broker.deny(denied, actor="bob", api_role="approver", reason="use readonly")
    late = ask()
    clock.advance(3600)
    with pytest.raises(AccessRequestExpiredError):
        broker.approve(late, actor="bob", api_role="approver")
    states = {r.request_id: r.state for r in broker.list_requests(tenants=[TENANT])}
    assert {states[rid], states[denied], states[late]} == {
        RequestState.USED,
        RequestState.DENIED,
        RequestState.EXPIRED,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def api_url(plane: ControlPlane) -> Iterator[str]:
    """The real API over the plane, served over HTTP (as `stockade up` serves it)."""
    port = _free_port()
    server = serve_api(plane, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True


def test_a_credential_process_profile_works_with_boto3(
    plane: ControlPlane,
    tenant: Tenant,
    api_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token, _info = plane.tokens.create("carol", "viewer", actor="test")
    command = [
        sys.executable, "-m", "stockade.cli.main", "--server", api_url,
        "access", TENANT, "--role", "readonly", "--reason", "done-when check",
        "--format", "credential-process",
    ]  # fmt: skip
    config = tmp_path / "aws-config"
    config.write_text(
        f"[profile tenant]\ncredential_process = {shlex.join(command)}\nregion = {REGION}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("STOCKADE_TOKEN", token)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    assert plane.sandbox is not None
    session = boto3.Session(profile_name="tenant")
    sts = session.client("sts", endpoint_url=plane.sandbox.endpoint_url)
    identity = sts.get_caller_identity()
    assert identity["Account"] == tenant.account_id
    assert identity["Arn"].endswith(":assumed-role/StockadeReadOnlyRole/carol")
    [event] = plane.audit.list(action="access.issue", actor="carol", limit=1)
    assert event.details["reason"] == "done-when check"
