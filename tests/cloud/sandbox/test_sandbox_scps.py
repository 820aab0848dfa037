"""The Organizations adapter's SCP operations against the sandbox, which refuses what AWS refuses.

One sandbox for the module: an organization with OUs ``Tenants/Eu``, ``Crowded`` and
``Lonely``, a tenant account in ``Tenants/Eu``, and SCPs enabled. Each test uses its own policy
names and targets, so the tests do not depend on one another.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from sandbox_support import FAST, client, client_in, wait_settled

from stockade.cloud.aws.organizations import Organizations
from stockade.cloud.aws.organizations_scps import ServiceControlPolicies
from stockade.cloud.ports import OrganizationsPort, ScpLevel
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.errors import (
    ConflictError,
    NotFoundError,
    TransientCloudError,
    ValidationError,
)
from stockade.domain.guardrails import ObservedScp, ScpTarget, TargetKind

ROOT = ScpTarget(TargetKind.ROOT)
SCP = "SERVICE_CONTROL_POLICY"


def _doc(action: str = "organizations:LeaveOrganization", *, sid: str = "Guard") -> str:
    return (
        '{"Version":"2012-10-17","Statement":[{"Sid":"' + sid + '","Effect":"Deny",'
        '"Action":"' + action + '","Resource":"*"}]}'
    )


def _doc_of_length(length: int) -> str:
    padding = length - len(_doc(sid=""))
    return _doc(sid="A" * padding)


@dataclass(frozen=True)
class Org:
    sandbox: SandboxProcess
    #: a tenant account in OU Tenants/Eu
    account: str
    management: str


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    with SandboxProcess(tmp_path_factory.mktemp("scps"), FAST) as sandbox:
        raw = client(sandbox, "organizations")
        orgs = Organizations(raw)
        root = orgs.ensure_organization()
        eu = orgs.ensure_ou(parent_id=orgs.ensure_ou(parent_id=root, name="Tenants"), name="Eu")
        orgs.ensure_ou(parent_id=root, name="Crowded")
        orgs.ensure_ou(parent_id=root, name="Lonely")
        request = raw.create_account(Email="eu@example.com", AccountName="tenant-eu")
        (done,) = wait_settled(raw, [request["CreateAccountStatus"]["Id"]])
        orgs.move_account(account_id=done["AccountId"], destination_id=eu)
        orgs.enable_scps()
        management = raw.describe_organization()["Organization"]["MasterAccountId"]
        yield Org(sandbox, done["AccountId"], management)


@pytest.fixture
def orgs(org: Org) -> OrganizationsPort:
    return Organizations(client(org.sandbox, "organizations"))


def _scps(orgs: OrganizationsPort) -> dict[str, ObservedScp]:
    return {scp.name: scp for scp in orgs.list_scps()}


def _by_id(scps: tuple[ObservedScp, ...]) -> dict[str, ObservedScp]:
    return {scp.policy_id: scp for scp in scps}


def _names(level: ScpLevel) -> list[str]:
    return [p.name for p in level.policies]


# -- reading --------------------------------------------------------------------------------


def test_full_aws_access_is_listed_as_aws_managed_on_every_target(
    org: Org, orgs: OrganizationsPort
) -> None:
    full = _scps(orgs)["FullAWSAccess"]
    assert full.aws_managed and not full.managed
    assert full.policy_id == "p-FullAWSAccess"
    assert '"Allow"' in full.content
    assert {
        ROOT,
        ScpTarget(TargetKind.OU, "Tenants"),
        ScpTarget(TargetKind.OU, "Tenants/Eu"),
        ScpTarget(TargetKind.ACCOUNT, org.account),
    } <= full.targets


def test_enable_scps_again_changes_nothing(org: Org, orgs: OrganizationsPort) -> None:
    orgs.enable_scps()
    orgs.enable_scps()
    (root,) = client(org.sandbox, "organizations").list_roots()["Roots"]
    assert root["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]


# -- create, update, delete -----------------------------------------------------------------


def test_create_is_idempotent_by_name_and_marks_the_scp_managed(orgs: OrganizationsPort) -> None:
    first = orgs.create_scp(name="deny-leave", description="no leaving", content=_doc())
    again = orgs.create_scp(name="deny-leave", description="ignored", content=_doc("s3:*"))
    assert again == first
    created = _scps(orgs)["deny-leave"]
    assert created.policy_id == first
    assert created.managed and not created.aws_managed
    assert created.description == "no leaving"
    assert created.content == _doc()
    assert created.targets == frozenset()
    assert [s.name for s in orgs.list_scps()].count("deny-leave") == 1


def test_an_scp_created_by_someone_else_is_not_managed(org: Org, orgs: OrganizationsPort) -> None:
    client(org.sandbox, "organizations").create_policy(
        Name="theirs", Description="", Content=_doc(), Type=SCP
    )
    theirs = _scps(orgs)["theirs"]
    assert not theirs.managed and not theirs.aws_managed


def test_an_aws_managed_name_cannot_be_created(orgs: OrganizationsPort) -> None:
    with pytest.raises(ConflictError, match="AWS managed"):
        orgs.create_scp(name="FullAWSAccess", description="", content=_doc())


def test_update_changes_content_and_description(orgs: OrganizationsPort) -> None:
    policy_id = orgs.create_scp(name="to-update", description="old", content=_doc())
    orgs.update_scp(policy_id=policy_id, content=_doc("ec2:*"), description="new")
    updated = _scps(orgs)["to-update"]
    assert (updated.content, updated.description) == (_doc("ec2:*"), "new")
    assert updated.managed


def test_update_of_a_missing_scp_is_not_found(orgs: OrganizationsPort) -> None:
    with pytest.raises(NotFoundError):
        orgs.update_scp(policy_id="p-00000000", content=_doc(), description="")


def test_content_up_to_the_size_limit_is_accepted_and_over_it_refused(
    orgs: OrganizationsPort,
) -> None:
    assert len(_doc_of_length(5_120)) == 5_120
    policy_id = orgs.create_scp(name="just-fits", description="", content=_doc_of_length(5_120))
    with pytest.raises(ValidationError, match="5,121 characters") as info:
        orgs.create_scp(name="too-big", description="", content=_doc_of_length(5_121))
    assert "limits.scp_max_chars" in info.value.hint
    assert "too-big" not in _scps(orgs)
    with pytest.raises(ValidationError, match="over AWS's size limit"):
        orgs.update_scp(policy_id=policy_id, content=_doc_of_length(5_121), description="")
    assert _scps(orgs)["just-fits"].content == _doc_of_length(5_120)


def test_malformed_content_is_refused(orgs: OrganizationsPort) -> None:
    with pytest.raises(ValidationError, match="malformed"):
        orgs.create_scp(name="broken", description="", content='{"Version": ')


def test_delete_is_idempotent_and_refused_while_attached(orgs: OrganizationsPort) -> None:
    policy_id = orgs.create_scp(name="in-use", description="", content=_doc())
    orgs.attach_scp(policy_id=policy_id, target=ScpTarget(TargetKind.OU, "Tenants"))
    with pytest.raises(ConflictError, match="still attached") as info:
        orgs.delete_scp(policy_id=policy_id)
    assert "detach" in info.value.hint
    assert "in-use" in _scps(orgs)

    orgs.detach_scp(policy_id=policy_id, target=ScpTarget(TargetKind.OU, "Tenants"))
    orgs.delete_scp(policy_id=policy_id)
    orgs.delete_scp(policy_id=policy_id)
    assert "in-use" not in _scps(orgs)


# -- attach and detach ----------------------------------------------------------------------


def test_attach_and_detach_are_idempotent_on_root_ou_and_account(
    org: Org, orgs: OrganizationsPort
) -> None:
    policy_id = orgs.create_scp(name="everywhere", description="", content=_doc())
    targets = [
        ROOT,
        ScpTarget(TargetKind.OU, "Tenants/Eu"),
        ScpTarget(TargetKind.ACCOUNT, org.account),
    ]
    for target in targets:
        orgs.attach_scp(policy_id=policy_id, target=target)
        orgs.attach_scp(policy_id=policy_id, target=target)
    assert _scps(orgs)["everywhere"].targets == frozenset(targets)

    for target in targets:
        orgs.detach_scp(policy_id=policy_id, target=target)
        orgs.detach_scp(policy_id=policy_id, target=target)
    assert _scps(orgs)["everywhere"].targets == frozenset()
    orgs.delete_scp(policy_id=policy_id)
    orgs.detach_scp(policy_id=policy_id, target=ROOT)  # a deleted policy is attached nowhere


def test_unknown_ou_path_or_account_is_not_found(orgs: OrganizationsPort) -> None:
    policy_id = orgs.create_scp(name="lost", description="", content=_doc())
    with pytest.raises(NotFoundError, match="'Tenants/Us'") as info:
        orgs.attach_scp(policy_id=policy_id, target=ScpTarget(TargetKind.OU, "Tenants/Us"))
    assert "'Us' under Tenants" in info.value.message
    with pytest.raises(NotFoundError, match="'Nowhere'"):
        orgs.detach_scp(policy_id=policy_id, target=ScpTarget(TargetKind.OU, "Nowhere"))
    with pytest.raises(NotFoundError, match="account:999999999999"):
        orgs.attach_scp(policy_id=policy_id, target=ScpTarget(TargetKind.ACCOUNT, "999999999999"))


def test_attaching_a_missing_scp_is_not_found(orgs: OrganizationsPort) -> None:
    with pytest.raises(NotFoundError, match="p-00000000"):
        orgs.attach_scp(policy_id="p-00000000", target=ROOT)


def test_a_target_takes_five_scps_including_full_aws_access(orgs: OrganizationsPort) -> None:
    crowded = ScpTarget(TargetKind.OU, "Crowded")
    for n in range(4):
        policy_id = orgs.create_scp(name=f"crowd-{n}", description="", content=_doc())
        orgs.attach_scp(policy_id=policy_id, target=crowded)
    extra = orgs.create_scp(name="crowd-extra", description="", content=_doc())
    with pytest.raises(ConflictError, match="ou:Crowded") as info:
        orgs.attach_scp(policy_id=extra, target=crowded)
    assert "scp_max_per_target" in info.value.hint
    scps = _scps(orgs)
    assert crowded not in scps["crowd-extra"].targets
    assert sum(crowded in scp.targets for scp in scps.values()) == 5
    # already attached is still fine at the limit
    orgs.attach_scp(policy_id=scps["crowd-0"].policy_id, target=crowded)


def test_the_last_scp_of_a_target_cannot_be_detached(orgs: OrganizationsPort) -> None:
    lonely = ScpTarget(TargetKind.OU, "Lonely")
    with pytest.raises(ConflictError, match="ou:Lonely") as info:
        orgs.detach_scp(policy_id="p-FullAWSAccess", target=lonely)
    assert "attach another SCP" in info.value.hint
    assert lonely in _scps(orgs)["FullAWSAccess"].targets


def test_attach_needs_scps_enabled(org: Org) -> None:
    other = Organizations(client_in(org.sandbox, "organizations", "222222222222"))
    other.ensure_organization()
    policy_id = other.create_scp(name="early", description="", content=_doc())
    with pytest.raises(ConflictError, match="not enabled"):
        other.attach_scp(policy_id=policy_id, target=ROOT)
    other.enable_scps()
    other.attach_scp(policy_id=policy_id, target=ROOT)
    assert {s.name: s.targets for s in other.list_scps()}["early"] == {ROOT}


# -- the chain of SCPs over an account ------------------------------------------------------


def test_scp_chain_goes_from_the_root_down_to_the_account(
    org: Org, orgs: OrganizationsPort
) -> None:
    on_tenants = orgs.create_scp(name="chain-tenants", description="", content=_doc("s3:*"))
    on_account = orgs.create_scp(name="chain-account", description="", content=_doc("ec2:*"))
    orgs.attach_scp(policy_id=on_tenants, target=ScpTarget(TargetKind.OU, "Tenants"))
    orgs.attach_scp(policy_id=on_account, target=ScpTarget(TargetKind.ACCOUNT, org.account))

    chain = orgs.scp_chain(account_id=org.account)

    assert [level.target for level in chain] == [
        ROOT,
        ScpTarget(TargetKind.OU, "Tenants"),
        ScpTarget(TargetKind.OU, "Tenants/Eu"),
        ScpTarget(TargetKind.ACCOUNT, org.account),
    ]
    assert all("FullAWSAccess" in _names(level) for level in chain)
    assert ["chain-tenants" in _names(level) for level in chain] == [False, True, False, False]
    assert ["chain-account" in _names(level) for level in chain] == [False, False, False, True]
    (tenants_doc,) = (p for p in chain[1].policies if p.name == "chain-tenants")
    assert (tenants_doc.policy_id, tenants_doc.content) == (on_tenants, _doc("s3:*"))


def test_scp_chain_of_the_management_account(org: Org, orgs: OrganizationsPort) -> None:
    chain = orgs.scp_chain(account_id=org.management)
    assert [level.target for level in chain] == [
        ROOT,
        ScpTarget(TargetKind.ACCOUNT, org.management),
    ]


def test_scp_chain_of_an_unknown_account_is_not_found(orgs: OrganizationsPort) -> None:
    with pytest.raises(NotFoundError, match="999999999999"):
        orgs.scp_chain(account_id="999999999999")


# -- AWS enables SCPs asynchronously (a stubbed client: the sandbox enables them at once) ----


def _root(status: str | None) -> dict[str, Any]:
    types = [{"Type": SCP, "Status": status}] if status else []
    return {"Id": "r-abcd", "Arn": "arn:aws:organizations::1:root/o-x/r-abcd", "PolicyTypes": types}


def _stubbed() -> tuple[Any, Stubber]:
    raw = boto3.client(
        "organizations",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return raw, Stubber(raw)


def test_enable_scps_waits_while_aws_enables_them() -> None:
    raw, stub = _stubbed()
    stub.add_response("list_roots", {"Roots": [_root(None)]})
    stub.add_response(
        "enable_policy_type",
        {"Root": _root("PENDING_ENABLE")},
        {"RootId": "r-abcd", "PolicyType": SCP},
    )
    stub.add_response("list_roots", {"Roots": [_root("PENDING_ENABLE")]})
    stub.add_response("list_roots", {"Roots": [_root("ENABLED")]})
    slept: list[float] = []
    with stub:
        ServiceControlPolicies(raw).enable_scps(poll_interval=3.0, sleep=slept.append)
    stub.assert_no_pending_responses()
    assert slept == [3.0, 3.0]


def test_enable_scps_gives_up_after_the_timeout() -> None:
    raw, stub = _stubbed()
    stub.add_response("list_roots", {"Roots": [_root("PENDING_ENABLE")]})
    for _ in range(3):
        stub.add_response("list_roots", {"Roots": [_root("PENDING_ENABLE")]})
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with stub, pytest.raises(TransientCloudError, match="still not enabled"):
        ServiceControlPolicies(raw).enable_scps(
            timeout=5.0, poll_interval=2.0, sleep=sleep, clock=lambda: now[0]
        )


# -- the journal replays every policy request -------------------------------------------------


def test_restart_restores_the_scps(org: Org, orgs: OrganizationsPort) -> None:
    policy_id = orgs.create_scp(name="durable", description="kept", content=_doc())
    orgs.attach_scp(policy_id=policy_id, target=ScpTarget(TargetKind.OU, "Tenants/Eu"))
    before = (_by_id(orgs.list_scps()), orgs.scp_chain(account_id=org.account))
    instance = org.sandbox.instance_id

    org.sandbox.stop()
    org.sandbox.start()

    assert org.sandbox.instance_id == instance and org.sandbox.restored_requests > 20
    restored = Organizations(client(org.sandbox, "organizations"))
    assert (_by_id(restored.list_scps()), restored.scp_chain(account_id=org.account)) == before
    # the realism still holds after the replay: attaching again is fine, deleting is refused
    restored.attach_scp(policy_id=policy_id, target=ScpTarget(TargetKind.OU, "Tenants/Eu"))
    with pytest.raises(ConflictError):
        restored.delete_scp(policy_id=policy_id)
