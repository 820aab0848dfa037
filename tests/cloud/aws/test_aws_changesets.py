"""Change-set deployments (``CloudFormationStacks.deploy_stack`` / ``wait_stack``) in the sandbox.

One sandbox process for the module, with an organization and a tenant account. The baseline's
access stack is deployed into the tenant through the organization's access role; every other
stack goes through the deploy role it creates, as the fleet engine does. Executions are counted
from the stack's own events (one ``CREATE_IN_PROGRESS``/``UPDATE_IN_PROGRESS`` per execution).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from stockade.cloud.aws.cloudformation import CloudFormationStacks
from stockade.cloud.aws.session import AwsCloud, AwsTarget, StaticCredentials
from stockade.cloud.budget import RateBudget
from stockade.cloud.ports import DeployStart
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.errors import CloudError, StackDeploymentFailed, TransientCloudError
from stockade.domain.quotas import DEFAULT_QUOTAS
from stockade.settings import SandboxSettings

TIME_SCALE = 1000.0
SETTINGS = SandboxSettings(
    time_scale=TIME_SCALE, create_account_delay=1.0, latency="off", enforce_quotas=False, seed=5
)
CREDENTIALS = StaticCredentials("AKIACHANGESETSTESTS0", "not-a-secret")
REGION = "us-east-1"
TEMPLATES = Path(__file__).resolve().parents[3] / "stockade" / "scaffold" / "files" / "templates"
ORDERS = (TEMPLATES / "services" / "orders.yaml").read_text()
ACCESS = (TEMPLATES / "baseline" / "access.yaml").read_text()
TOPIC = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  TenantId:
    Type: String
  Size:
    Type: String
    Default: small
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "${TenantId}-${Size}"
"""
#: moto refuses the policy (its role does not exist): at ExecuteChangeSet, or at CreateStack,
#: where it then keeps the stack CREATE_IN_PROGRESS forever
ORPHAN_POLICY = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  OrphanPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: orphan
      Roles: [no-such-role]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: "*"
"""
TAGS = {"stockade:tenant": "acme", "stockade:service": "orders"}


@dataclass(frozen=True)
class TenantAccount:
    cloud: AwsCloud
    account_id: str
    #: boto3 CloudFormation acting inside the account, for looking behind the adapter
    raw: Any

    def stacks(self, role: str = "StockadeDeployRole") -> CloudFormationStacks:
        return self.cloud.stacks(account_id=self.account_id, role_name=role, region=REGION)


def _client(sandbox: SandboxProcess, service: str, account_id: str | None = None) -> Any:
    return sandbox.client(
        service,
        account_id=account_id,
        region=REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _new_account(sandbox: SandboxProcess, name: str) -> str:
    org = _client(sandbox, "organizations")
    request = org.create_account(Email=f"{name}@example.com", AccountName=name)
    request_id = request["CreateAccountStatus"]["Id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = org.describe_create_account_status(CreateAccountRequestId=request_id)
        if status["CreateAccountStatus"]["State"] == "SUCCEEDED":
            return str(status["CreateAccountStatus"]["AccountId"])
        time.sleep(0.01)
    raise AssertionError(f"account {name} was not created")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    with SandboxProcess(tmp_path_factory.mktemp("changesets"), SETTINGS) as process:
        _client(process, "organizations").create_organization(FeatureSet="ALL")
        yield process


@pytest.fixture(scope="module")
def cloud(sandbox: SandboxProcess) -> AwsCloud:
    target = AwsTarget(region=REGION, endpoint_url=sandbox.endpoint_url, credentials=CREDENTIALS)
    return AwsCloud(target=target, budget=RateBudget(DEFAULT_QUOTAS.scaled(TIME_SCALE)))


@pytest.fixture(scope="module")
def tenant(sandbox: SandboxProcess, cloud: AwsCloud) -> TenantAccount:
    """A tenant account with the baseline's access stack (the deploy role) in place."""
    account_id = _new_account(sandbox, "acme")
    tenant = TenantAccount(cloud, account_id, _client(sandbox, "cloudformation", account_id))
    baseline = tenant.stacks(role="OrganizationAccountAccessRole")
    start = baseline.deploy_stack(
        name="stockade-access",
        template_body=ACCESS,
        parameters={"TenantId": "acme", "ManagementAccountId": "123456789012"},
        tags={"stockade:tenant": "acme", "stockade:baseline-version": "1"},
        change_set_name="baseline-1-a1",
    )
    assert start.executed
    baseline.wait_stack(name="stockade-access", timeout=60, poll_interval=0.01)
    return tenant


def executions(raw: Any, stack: str) -> int:
    """Stack operations started on ``stack`` (creates and updates), from its events."""
    events = raw.describe_stack_events(StackName=stack)["StackEvents"]
    return sum(
        1
        for e in events
        if e["ResourceType"] == "AWS::CloudFormation::Stack"
        and e["LogicalResourceId"] == stack
        and e["ResourceStatus"] in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
    )


def deploy(
    stacks: CloudFormationStacks,
    name: str,
    change_set: str,
    *,
    template: str = ORDERS,
    **parameters: str,
) -> DeployStart:
    return stacks.deploy_stack(
        name=name,
        template_body=template,
        parameters=parameters,
        tags=TAGS,
        change_set_name=change_set,
        poll_interval=0.01,
    )


def test_the_baseline_creates_the_deploy_role_service_deploys_go_through(
    sandbox: SandboxProcess, tenant: TenantAccount
) -> None:
    iam = _client(sandbox, "iam", tenant.account_id)
    assert iam.get_role(RoleName="StockadeDeployRole")["Role"]["RoleName"] == "StockadeDeployRole"
    access = tenant.stacks().get_stack(name="stockade-access")
    assert access is not None and access.status == "CREATE_COMPLETE"
    assert access.tag_values["stockade:baseline-version"] == "1"


def test_a_new_stack_is_created_through_a_change_set(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    start = deploy(stacks, "svc-create", "r1-a1", TenantId="acme", Tier="free")

    assert start.executed and not start.no_changes and not start.resumed
    assert start.change_set_type == "CREATE"
    assert start.change_set_id and ":changeSet/r1-a1/" in start.change_set_id
    info = stacks.wait_stack(name="svc-create", timeout=60, poll_interval=0.01)
    assert info.status == "CREATE_COMPLETE"
    assert info.stack_id == start.stack_id
    assert info.parameter_values == {"TenantId": "acme", "Tier": "free"}
    assert info.tag_values == TAGS
    resources = {r.logical_id for r in stacks.list_stack_resources(name="svc-create")}
    assert {"OrdersTable", "OrderEventsQueue", "OrderEventsTopic"} <= resources
    assert executions(tenant.raw, "svc-create") == 1


def test_a_parameter_change_updates_the_stack(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    first = deploy(stacks, "svc-update", "r1-a1", TenantId="acme", Tier="free")
    stacks.wait_stack(name="svc-update", timeout=60, poll_interval=0.01)

    second = deploy(stacks, "svc-update", "r2-a1", TenantId="acme", Tier="enterprise")

    assert second.executed and second.change_set_type == "UPDATE"
    assert second.stack_id == first.stack_id and second.change_set_id != first.change_set_id
    info = stacks.wait_stack(name="svc-update", timeout=60, poll_interval=0.01)
    assert info.status == "UPDATE_COMPLETE"
    assert info.parameter_values["Tier"] == "enterprise"
    assert executions(tenant.raw, "svc-update") == 2


def test_deploying_what_is_deployed_changes_nothing(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    deploy(stacks, "svc-same", "r1-a1", template=TOPIC, TenantId="acme")
    stacks.wait_stack(name="svc-same", timeout=60, poll_interval=0.01)
    deploy(stacks, "svc-same", "r2-a1", template=TOPIC, TenantId="acme", Size="large")
    stacks.wait_stack(name="svc-same", timeout=60, poll_interval=0.01)

    again = deploy(stacks, "svc-same", "r3-a1", template=TOPIC, TenantId="acme", Size="large")
    retried = deploy(stacks, "svc-same", "r3-a1", template=TOPIC, TenantId="acme", Size="large")

    assert again.no_changes and not again.executed
    assert retried.no_changes and not retried.executed
    assert executions(tenant.raw, "svc-same") == 2
    info = stacks.get_stack(name="svc-same")
    assert info is not None and info.parameter_values == {"TenantId": "acme", "Size": "large"}


def test_a_default_left_out_is_deployed_explicitly(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    deploy(stacks, "svc-default", "r1-a1", template=TOPIC, TenantId="acme")
    stacks.wait_stack(name="svc-default", timeout=60, poll_interval=0.01)

    same = deploy(stacks, "svc-default", "r2-a1", template=TOPIC, TenantId="acme", Size="small")

    assert same.no_changes
    info = stacks.get_stack(name="svc-default")
    assert info is not None and info.parameter_values == {"TenantId": "acme", "Size": "small"}


def test_going_back_to_earlier_parameters_updates_the_stack(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    deploy(stacks, "svc-back", "r1-a1", template=TOPIC, TenantId="acme", Size="small")
    stacks.wait_stack(name="svc-back", timeout=60, poll_interval=0.01)
    deploy(stacks, "svc-back", "r2-a1", template=TOPIC, TenantId="acme", Size="large")
    stacks.wait_stack(name="svc-back", timeout=60, poll_interval=0.01)

    back = deploy(stacks, "svc-back", "r3-a1", template=TOPIC, TenantId="acme", Size="small")

    assert back.executed


def test_an_update_brings_its_tags_and_the_stack_has_outputs(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    deploy(stacks, "svc-tags", "r1-a1", TenantId="acme", Tier="free")
    stacks.wait_stack(name="svc-tags", timeout=60, poll_interval=0.01)
    stacks.deploy_stack(
        name="svc-tags",
        template_body=ORDERS,
        parameters={"TenantId": "acme", "Tier": "enterprise"},
        tags={**TAGS, "stockade:version": "2"},
        change_set_name="r2-a1",
    )
    info = stacks.wait_stack(name="svc-tags", timeout=60, poll_interval=0.01)

    assert info.tag_values.get("stockade:version") == "2"
    assert set(info.output_values) == {"TableName", "TopicArn", "QueueUrl"}


def test_a_retry_with_the_same_change_set_never_executes_it_twice(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    deploy(stacks, "svc-retry", "r1-a1", TenantId="acme", Tier="free")
    stacks.wait_stack(name="svc-retry", timeout=60, poll_interval=0.01)
    update = deploy(stacks, "svc-retry", "r2-a1", TenantId="acme", Tier="enterprise")

    # the step re-runs after a crash that lost the results of both deployments
    again_update = deploy(stacks, "svc-retry", "r2-a1", TenantId="acme", Tier="enterprise")
    again_create = deploy(stacks, "svc-retry", "r1-a1", TenantId="acme", Tier="free")

    assert again_update.executed and again_update.resumed
    assert again_update.change_set_id == update.change_set_id
    assert again_update.change_set_type == "UPDATE"
    assert again_create.executed and again_create.resumed
    assert executions(tenant.raw, "svc-retry") == 2
    info = stacks.wait_stack(name="svc-retry", timeout=60, poll_interval=0.01)
    assert info.parameter_values["Tier"] == "enterprise"  # r1 was not re-applied


def test_a_change_set_created_before_a_crash_is_reused(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    # the previous attempt created the change set (a new stack: REVIEW_IN_PROGRESS), then died
    made = tenant.raw.create_change_set(
        StackName="svc-crash",
        ChangeSetName="r1-a1",
        ChangeSetType="CREATE",
        TemplateBody=ORDERS,
        Parameters=[
            {"ParameterKey": "TenantId", "ParameterValue": "acme"},
            {"ParameterKey": "Tier", "ParameterValue": "free"},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )

    start = deploy(stacks, "svc-crash", "r1-a1", TenantId="acme", Tier="free")

    assert start.executed and start.resumed and start.change_set_type == "CREATE"
    assert start.change_set_id == made["Id"] and start.stack_id == made["StackId"]
    stacks.wait_stack(name="svc-crash", timeout=60, poll_interval=0.01)
    named = [s for s in tenant.raw.describe_stacks()["Stacks"] if s["StackName"] == "svc-crash"]
    assert len(named) == 1
    change_sets = tenant.raw.list_change_sets(StackName="svc-crash")["Summaries"]
    assert [c["ChangeSetName"] for c in change_sets if c["StackId"] == made["StackId"]] == ["r1-a1"]
    assert executions(tenant.raw, "svc-crash") == 1


def test_change_set_names_belong_to_their_stack(tenant: TenantAccount) -> None:
    """One release, one attempt: every service of a tenant gets the same change set name."""
    stacks = tenant.stacks()
    first = deploy(stacks, "svc-one", "r7-a1", template=TOPIC, TenantId="acme")
    second = deploy(stacks, "svc-two", "r7-a1", template=TOPIC, TenantId="acme")

    assert first.executed and second.executed and not second.resumed
    assert first.stack_id != second.stack_id
    assert stacks.wait_stack(name="svc-two", timeout=60, poll_interval=0.01).complete
    assert executions(tenant.raw, "svc-one") == executions(tenant.raw, "svc-two") == 1


def test_a_stack_left_unborn_by_a_failed_attempt_is_created_anew(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    with pytest.raises(StackDeploymentFailed, match="no-such-role") as failed:
        deploy(stacks, "svc-unborn", "r1-a1", template=ORPHAN_POLICY)
    assert not failed.value.transient
    stuck = stacks.get_stack(name="svc-unborn")
    assert stuck is not None and stuck.status == "REVIEW_IN_PROGRESS"

    start = deploy(stacks, "svc-unborn", "r2-a1", template=TOPIC, TenantId="acme")

    assert start.executed and start.change_set_type == "CREATE"
    assert start.stack_id != stuck.stack_id
    info = stacks.wait_stack(name="svc-unborn", timeout=60, poll_interval=0.01)
    assert info.status == "CREATE_COMPLETE"
    named = [s for s in tenant.raw.describe_stacks()["Stacks"] if s["StackName"] == "svc-unborn"]
    assert len(named) == 1


@pytest.mark.parametrize(
    ("template", "parameters", "message"),
    [
        ("Resources:\n  Topic: [unclosed\n", {}, "neither valid JSON nor valid YAML"),
        ("- a list\n- not a template\n", {}, "not a JSON or YAML mapping"),
        (TOPIC, {"TenantId": "acme", "Colour": "red"}, r"\['Colour'\] are not declared"),
        (TOPIC, {"Size": "large"}, r"\['TenantId'\] have no value and no default"),
    ],
    ids=["malformed", "not-a-mapping", "undeclared-parameter", "missing-parameter"],
)
def test_template_errors_fail_at_once_with_a_clear_message(
    tenant: TenantAccount, template: str, parameters: dict[str, str], message: str
) -> None:
    stacks = tenant.stacks()
    with pytest.raises(StackDeploymentFailed, match=message) as failed:
        deploy(stacks, "svc-invalid", "r1-a1", template=template, **parameters)
    assert not failed.value.transient
    assert "fix the template" in failed.value.one_line()
    assert stacks.get_stack(name="svc-invalid") is None


def test_wait_stack_gives_up_on_a_stack_stuck_in_progress(tenant: TenantAccount) -> None:
    stacks = tenant.stacks()
    with pytest.raises(CloudError):  # moto refuses the resource but keeps the stack
        stacks.create_stack(name="svc-stuck", template_body=ORPHAN_POLICY, parameters={}, tags={})
    now = [0.0]
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    with pytest.raises(StackDeploymentFailed, match="still CREATE_IN_PROGRESS after 1800 s"):
        stacks.wait_stack(
            name="svc-stuck", timeout=1800, poll_interval=30, sleep=sleep, clock=lambda: now[0]
        )
    assert sum(naps) == pytest.approx(1800) and max(naps) == 30

    # and a deployment onto it does not pile a second operation on the first
    with pytest.raises(TransientCloudError, match="another operation is running"):
        deploy(stacks, "svc-stuck", "r1-a1", template=TOPIC, TenantId="acme")


def test_managed_stacks_are_listed_with_tags_parameters_and_outputs(
    sandbox: SandboxProcess, cloud: AwsCloud
) -> None:
    account_id = _new_account(sandbox, "listed")
    raw = _client(sandbox, "cloudformation", account_id)
    for i in range(53):  # moto pages DescribeStacks by 50
        raw.create_stack(
            StackName=f"svc-{i:02d}",
            TemplateBody=TOPIC,
            Parameters=[{"ParameterKey": "TenantId", "ParameterValue": "listed"}],
            Tags=[{"Key": "stockade:tenant", "Value": "listed"}] if i % 2 == 0 else [],
        )
    raw.create_stack(
        StackName="other-00",
        TemplateBody=TOPIC,
        Parameters=[{"ParameterKey": "TenantId", "ParameterValue": "listed"}],
        Tags=[{"Key": "stockade:tenant", "Value": "listed"}],
    )
    raw.delete_stack(StackName="svc-00")
    stacks = cloud.stacks(account_id=account_id, role_name="StockadeDeployRole", region=REGION)

    managed = stacks.list_managed_stacks(name_prefix="svc-")
    everything = stacks.list_managed_stacks(tag_key=None)

    assert sorted(s.name for s in managed) == [f"svc-{i:02d}" for i in range(2, 53, 2)]
    assert all(s.tag_values == {"stockade:tenant": "listed"} for s in managed)
    assert all(s.parameter_values == {"TenantId": "listed", "Size": "small"} for s in managed)
    assert len(everything) == 53  # 52 svc-* left, and other-00
