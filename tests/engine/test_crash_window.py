"""The CreateAccount crash window: the call reached AWS but its request id was never recorded.

The engine records an intent, calls CreateAccount, then records the request id. A crash (or a
lost response) between the call and the record leaves only the intent. Here the test plays
the part of that lost call itself: it records a tenant without starting a workflow, sends
CreateAccount through boto3 exactly as the engine would have, records the intent, and only
then lets the engine resume. The engine must adopt that account, never create a second one.
"""

from __future__ import annotations

import threading

import pytest

from engine.support import accounts_with_email, org_accounts, org_client, wait_for, wait_settled
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.server.control import ControlPlane


@pytest.mark.parametrize(
    ("tenant_id", "wait_for_creation"),
    [("crash-in-flight", False), ("crash-finished", True)],
    ids=["creation-still-in-progress", "creation-already-succeeded"],
)
def test_resume_adopts_the_account_of_an_unrecorded_create_account(
    plane: ControlPlane, tenant_id: str, wait_for_creation: bool
) -> None:
    naming = plane.spec.spec.naming
    email = naming.email(tenant_id)
    recorded = plane.repo.create(
        TenantRequest(tenant_id=tenant_id, tier="free"), email=email, actor="test"
    )
    assert recorded.state is TenantState.REQUESTED  # no workflow runs for it yet
    org = org_client(plane)
    request_id = org.create_account(Email=email, AccountName=naming.name(tenant_id))[
        "CreateAccountStatus"
    ]["Id"]
    plane.repo.record_create_intent(tenant_id)

    def status() -> dict[str, str]:
        result: dict[str, str] = org.describe_create_account_status(
            CreateAccountRequestId=request_id
        )["CreateAccountStatus"]
        return result

    if wait_for_creation:
        wait_for(lambda: status()["State"] == "SUCCEEDED", timeout=10, what="the creation")
    assert plane.service.resume_pending() >= 1
    tenant = wait_settled(plane, [tenant_id])[tenant_id]

    assert tenant.state is TenantState.ACTIVE, tenant.failure_reason
    created = status()
    assert created["State"] == "SUCCEEDED"
    assert tenant.account_id == created["AccountId"]
    (account,) = accounts_with_email(org, email)
    assert account["Id"] == created["AccountId"]
    requests = [
        s
        for s in org.list_create_account_status()["CreateAccountStatuses"]
        if s["AccountName"] == naming.name(tenant_id)
    ]
    assert [s["Id"] for s in requests] == [request_id]  # the engine sent no CreateAccount


def test_concurrent_resumes_start_each_tenant_once(plane: ControlPlane) -> None:
    ids = [f"racing-resume-{i}" for i in range(4)]
    for tenant_id in ids:
        plane.repo.create(
            TenantRequest(tenant_id=tenant_id, tier="free"),
            email=plane.spec.spec.naming.email(tenant_id),
            actor="test",
        )
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def resume() -> None:
        start.wait()
        try:
            for _ in range(5):
                plane.service.resume_pending()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    tenants = wait_settled(plane, ids)

    assert {t.state for t in tenants.values()} == {TenantState.ACTIVE}
    org = org_client(plane)
    for tenant_id in ids:
        assert len(accounts_with_email(org, f"aws+{tenant_id}@example.com")) == 1
    accounts = [a["Id"] for a in org_accounts(org)]
    assert len(accounts) == len(set(accounts))
