"""CreateAccount is asynchronous like AWS's, and injected faults fail it like AWS would."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.exceptions import ClientError
from sandbox_support import FAST, client, wait_settled

from stockade.cloud.sandbox.creations import FAILURE_REASONS
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.errors import ValidationError


def _names(org: object, **kwargs: object) -> list[str]:
    accounts = org.list_accounts(**kwargs)["Accounts"]  # type: ignore[attr-defined]
    return [a["Name"] for a in accounts]


def test_create_account_is_in_progress_then_succeeds(shared_sandbox: SandboxProcess) -> None:
    org = client(shared_sandbox, "organizations")
    status = org.create_account(Email="slow@example.com", AccountName="slow")["CreateAccountStatus"]
    assert status["State"] == "IN_PROGRESS"
    assert "AccountId" not in status and "CompletedTimestamp" not in status
    assert status["Id"].startswith("car-")

    described = org.describe_create_account_status(CreateAccountRequestId=status["Id"])
    assert described["CreateAccountStatus"]["State"] == "IN_PROGRESS"
    in_progress = org.list_create_account_status(States=["IN_PROGRESS"])["CreateAccountStatuses"]
    assert status["Id"] in [s["Id"] for s in in_progress]
    succeeded = org.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert status["Id"] not in [s["Id"] for s in succeeded]
    assert "slow" not in _names(org)

    (final,) = wait_settled(org, [status["Id"]])
    assert final["State"] == "SUCCEEDED"
    assert final["AccountId"].isdigit() and len(final["AccountId"]) == 12
    assert final["CompletedTimestamp"] >= final["RequestedTimestamp"]
    took = (final["CompletedTimestamp"] - final["RequestedTimestamp"]).total_seconds()
    assert took == pytest.approx(FAST.create_account_delay / FAST.time_scale, abs=0.01)
    assert "slow" in _names(org)
    succeeded = org.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert status["Id"] in [s["Id"] for s in succeeded]
    described = org.describe_account(AccountId=final["AccountId"])["Account"]
    assert described["Name"] == "slow"


def test_in_progress_account_is_not_found(shared_sandbox: SandboxProcess) -> None:
    org = client(shared_sandbox, "organizations")
    status = org.create_account(Email="hidden@example.com", AccountName="hidden")[
        "CreateAccountStatus"
    ]
    root = org.list_roots()["Roots"][0]["Id"]
    assert "hidden" not in [
        a["Name"] for a in org.list_accounts_for_parent(ParentId=root)["Accounts"]
    ]
    assert "hidden" not in _names(org)
    wait_settled(org, [status["Id"]])
    assert "hidden" in _names(org)


def test_list_create_account_status_pages(shared_sandbox: SandboxProcess) -> None:
    org = client(shared_sandbox, "organizations")
    requests = [
        org.create_account(Email=f"page{i}@example.com", AccountName=f"page{i}")[
            "CreateAccountStatus"
        ]["Id"]
        for i in range(3)
    ]
    pages = org.get_paginator("list_create_account_status").paginate(
        PaginationConfig={"PageSize": 2}
    )
    seen = [s["AccountName"] for page in pages for s in page["CreateAccountStatuses"]]
    assert len(seen) == len(set(seen))
    assert {"page0", "page1", "page2"} <= set(seen)
    wait_settled(org, requests)


def test_injected_fault_fails_once_without_creating(shared_sandbox: SandboxProcess) -> None:
    org = client(shared_sandbox, "organizations")
    shared_sandbox.inject_fault("faulty-*", "EMAIL_ALREADY_EXISTS", times=1)
    accounts_before = len(org.list_accounts()["Accounts"])

    failed = org.create_account(Email="f1@example.com", AccountName="faulty-1")[
        "CreateAccountStatus"
    ]
    assert failed["State"] == "IN_PROGRESS"
    assert failed["Id"].startswith("car-")
    ok = org.create_account(Email="f2@example.com", AccountName="faulty-2")["CreateAccountStatus"]
    other = org.create_account(Email="f3@example.com", AccountName="other")["CreateAccountStatus"]

    first, second, third = wait_settled(org, [failed["Id"], ok["Id"], other["Id"]])
    assert first["State"] == "FAILED"
    assert first["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in first
    assert second["State"] == "SUCCEEDED"  # times=1: only the first match fails
    assert third["State"] == "SUCCEEDED"
    failed_list = org.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert failed["Id"] in [s["Id"] for s in failed_list]
    names = _names(org)
    assert "faulty-1" not in names and "faulty-2" in names
    assert len(names) == accounts_before + 2


def test_fault_reason_is_validated(shared_sandbox: SandboxProcess) -> None:
    with pytest.raises(ValidationError, match="reason"):
        shared_sandbox.inject_fault("x-*", "NOT_A_REASON")
    with pytest.raises(ValidationError, match="times"):
        shared_sandbox.inject_fault("x-*", "INTERNAL_FAILURE", times=0)


def test_failure_reasons_match_the_api_model() -> None:
    model = botocore.session.get_session().get_service_model("organizations")
    assert set(model.shape_for("CreateAccountFailureReason").enum) == FAILURE_REASONS


def test_unknown_request_id_is_not_found(shared_sandbox: SandboxProcess) -> None:
    org = client(shared_sandbox, "organizations")
    with pytest.raises(ClientError) as info:
        org.describe_create_account_status(CreateAccountRequestId="car-00000000")
    assert info.value.response["Error"]["Code"] == "CreateAccountStatusNotFoundException"


def test_create_account_needs_an_organization(start_sandbox: object) -> None:
    sandbox = start_sandbox()  # type: ignore[operator]
    sandbox.inject_fault("*", "INTERNAL_FAILURE", times=None)
    with pytest.raises(ClientError) as info:
        client(sandbox, "organizations").create_account(Email="a@example.com", AccountName="a")
    assert info.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"


def test_a_second_account_with_the_same_email_fails_like_aws(
    shared_sandbox: SandboxProcess,
) -> None:
    org = client(shared_sandbox, "organizations")
    first = org.create_account(Email="Twice@example.com", AccountName="twice-a")
    second = org.create_account(Email="twice@EXAMPLE.com", AccountName="twice-b")
    done = wait_settled(
        org, [first["CreateAccountStatus"]["Id"], second["CreateAccountStatus"]["Id"]]
    )
    assert [s["State"] for s in done] == ["SUCCEEDED", "FAILED"]
    assert done[1]["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in done[1]
    assert "twice-b" not in _names(org)
