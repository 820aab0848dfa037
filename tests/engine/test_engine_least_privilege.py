"""Stockade runs on its generated policies alone: moto's IAM authorization proves it.

The sandbox checks every request against the caller's IAM policies
(``SandboxSettings(iam_authorization=True)``, ``cloud.sandbox.iam_authorization``). Before
Stockade starts, the sandbox's admin creates the IAM user ``stockade`` in the management account
whose only policy is the generated management policy (``stockade iam policy --for management``),
and Stockade runs with that user's keys: it builds the organization and its SCPs, onboards a
tenant (CreateAccount, move, tag, the access stack through the org access role, the rest of the
baseline and the services through the deploy role, reads through the read role) and rolls a new
release out (plan refresh through the read role, change sets through the deploy role), scans
credentials (the scan role) and issues a person's session (a people's role). The tenant roles
are the ones the baseline template creates, with its (generated) inline policies.

Negative controls, so the proof can fail: the read role may read but not deploy, the org access
role is locked once the baseline is up (so nothing after it could have used it), and the
management user without ``MoveAccount`` fails an onboarding, each with AWS's access-denied error
naming the action.

What this does not prove (moto cannot evaluate it): role trust policies across accounts, SCPs,
``Condition`` elements, ``Resource`` narrowing for anything but ``sts:AssumeRole`` (moto checks
every other action against ``*``), and the permissions CloudFormation would need to create the
templates' resources with the caller's credentials (moto's CloudFormation creates them as it is).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.rollout_support import set_service_version, wait_services, wait_stopped, write_test_spec
from engine.support import FAST, REGION, Planes, wait_settled
from stockade.cloud.aws.session import StaticCredentials
from stockade.cloud.ports import StacksPort
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.access import AccessLevel
from stockade.domain.errors import CloudAccessDenied
from stockade.domain.iam import Identity
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.engine.access import AccessAsk
from stockade.server.control import ControlPlane, start_control_plane
from stockade.server.iam import stockade_policies
from stockade.settings import Settings
from stockade.spec.loader import load_spec
from stockade.store.rollout_types import RolloutState, TenantStatus

SETTINGS = FAST.model_copy(update={"iam_authorization": True})
USER = "stockade"
POLICY = "stockade-management"
TOPIC = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""


@dataclass
class Proof:
    plane: ControlPlane
    spec_path: Path
    management_policy: dict[str, Any]

    def admin(self, service: str) -> Any:
        """A client of the sandbox's management account as its admin."""
        assert self.plane.sandbox is not None
        return _admin_client(self.plane.sandbox, service)


def _admin_client(sandbox: SandboxProcess, service: str) -> Any:
    return sandbox.client(service, region=REGION)


def _create_stockade_user(state_dir: Path, policy: dict[str, Any]) -> StaticCredentials:
    """The management account's least-privilege user, made by the admin before Stockade runs."""
    with SandboxProcess(state_dir, SETTINGS) as sandbox:
        iam = _admin_client(sandbox, "iam")
        iam.create_user(UserName=USER)
        iam.put_user_policy(UserName=USER, PolicyName=POLICY, PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=USER)["AccessKey"]
    return StaticCredentials(key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="module")
def proof(planes: Planes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proof]:
    planes.close()  # DBOS runs once per process: no other control plane may be running
    root = tmp_path_factory.mktemp("least-privilege")
    spec_path = write_test_spec(root / "fleet")
    spec = load_spec(spec_path)
    policy = stockade_policies(spec.spec.organization)[Identity.MANAGEMENT]
    home = root / "home"
    credentials = _create_stockade_user(home / "sandbox", policy)
    plane = start_control_plane(
        Settings(home=home), spec=spec, sandbox_settings=SETTINGS, credentials=credentials
    )
    try:
        yield Proof(plane, spec_path, policy)
    finally:
        plane.close()


def _onboard(plane: ControlPlane, tenant_id: str, *, canary: bool = False) -> TenantState:
    labels = {"canary": "true"} if canary else {}
    plane.service.create_tenant(
        TenantRequest(tenant_id=tenant_id, tier="free", labels=labels), actor="test"
    )
    return wait_settled(plane, [tenant_id], timeout=90)[tenant_id].state


def test_stockade_onboards_and_deploys_with_only_the_generated_policies(proof: Proof) -> None:
    plane = proof.plane
    state = _onboard(plane, "lp-a", canary=True)
    assert state is TenantState.ACTIVE, plane.repo.get("lp-a").failure_reason
    wait_services(plane, ["lp-a"], timeout=90)
    assert not plane.repo.get("lp-a").warnings

    set_service_version(proof.spec_path, "orders", "1.1.0")
    outcome = plane.rollouts.apply(actor="test", refresh=True)  # refresh: the read role
    assert outcome.rollout is not None
    rollout = wait_stopped(plane, outcome.rollout.id, timeout=90)
    assert rollout.state is RolloutState.COMPLETED, rollout.halt_reason
    assert {t.status for t in rollout.tenants or ()} == {TenantStatus.SUCCEEDED}

    # Stockade itself ran as the least-privilege user
    iam = proof.admin("iam")
    keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    used = iam.get_access_key_last_used(AccessKeyId=keys[0]["AccessKeyId"])
    assert used["AccessKeyLastUsed"].get("LastUsedDate")


def test_credential_scans_and_peoples_sessions_work_with_the_generated_policies(
    proof: Proof,
) -> None:
    plane = proof.plane
    scan = plane.scans.scan_credentials(tenant_ids=["lp-a"])  # through the scan role
    assert (scan.accounts, scan.errors) == (1, ())
    issued = plane.access.issue(  # a person's session in one of the people's roles
        AccessAsk(
            tenant_id="lp-a",
            level=AccessLevel.READONLY,
            reason="least privilege proof",
            actor="alice",
            api_role="operator",
        )
    )
    assert issued.role_name == plane.spec.spec.organization.access_roles.readonly
    assert issued.credentials.assumed_role_arn.endswith(f"/{issued.role_name}/alice")


def test_the_tenant_roles_allow_only_their_own_actions(proof: Proof) -> None:
    plane = proof.plane
    organization = plane.spec.spec.organization
    account = plane.repo.get("lp-a").account_id
    assert account is not None

    def stacks(role: str) -> StacksPort:
        return plane.cloud.stacks(account_id=account, role_name=role, region=REGION)

    # the read role reads, and may not deploy
    assert stacks(organization.read_role).get_stack(name="stockade-svc-orders") is not None
    with pytest.raises(CloudAccessDenied, match="not authorized to perform: cloudformation:Create"):
        stacks(organization.read_role).deploy_stack(
            name="stockade-probe",
            template_body=TOPIC,
            parameters={},
            tags={},
            change_set_name="probe",
        )
    # the baseline locked the org access role once Stockade's roles existed (LockAccessRole)
    with pytest.raises(CloudAccessDenied, match="cloudformation:DescribeStacks"):
        stacks(organization.access_role).get_stack(name="stockade-svc-orders")


def test_a_management_user_without_move_account_fails_the_onboarding(proof: Proof) -> None:
    crippled = json.loads(json.dumps(proof.management_policy))
    for statement in crippled["Statement"]:
        if statement["Sid"] == "Organizations":
            statement["Action"].remove("organizations:MoveAccount")
    iam = proof.admin("iam")
    iam.put_user_policy(UserName=USER, PolicyName=POLICY, PolicyDocument=json.dumps(crippled))
    try:
        assert _onboard(proof.plane, "lp-b") is TenantState.FAILED
        tenant = proof.plane.repo.get("lp-b")
        assert "not authorized to perform: organizations:MoveAccount" in (
            tenant.failure_reason or ""
        )
    finally:
        iam.put_user_policy(
            UserName=USER, PolicyName=POLICY, PolicyDocument=json.dumps(proof.management_policy)
        )
