"""Every example template deploys in moto (in-process) with every resource actually created.

moto skips resource types it does not support while still reporting CREATE_COMPLETE, so each
test compares the stack's resources with the template's logical ids.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from stockade.scaffold import example_spec_path
from stockade.spec.templates import TemplateInfo, read_template

TEMPLATES = sorted((example_spec_path().parent / "templates").rglob("*.yaml"))
#: what the engine passes, and the access stack's lock switched on (so every resource exists)
ENGINE_VALUES = {
    "TenantId": "acme",
    "ManagementAccountId": "111122223333",
    "LockAccessRole": "true",
}
#: the role Organizations creates in a new account, which the locked access stack locks
ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def summarize(path: Path) -> TemplateInfo:
    info = read_template(path, path.read_text(), display=str(path))
    assert isinstance(info, TemplateInfo), info
    return info


def deploy(info: TemplateInfo, tier: str, stack: str = "example") -> dict[str, str]:
    """Create the stack as the engine would; logical id → status of what moto created."""
    values = {**ENGINE_VALUES, "Tier": tier}
    if "AccessRoleName" in info.parameters:
        boto3.client("iam", region_name="us-east-1").create_role(
            RoleName=ORG_ACCESS_ROLE, AssumeRolePolicyDocument="{}"
        )
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=info.body,
        Parameters=[
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in values.items()
            if key in info.parameters
        ],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    assert status["StackStatus"] == "CREATE_COMPLETE", status.get("StackStatusReason")
    summaries = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {s["LogicalResourceId"]: s["ResourceStatus"] for s in summaries}


def test_the_example_has_baseline_and_service_templates() -> None:
    names = {p.relative_to(TEMPLATES[0].parents[1]).as_posix() for p in TEMPLATES}
    assert {
        "baseline/access.yaml",
        "baseline/platform.yaml",
        "services/orders.yaml",
        "services/notifications.yaml",
        "services/api.yaml",
        "services/workflows.yaml",
    } <= names


@pytest.mark.parametrize("tier", ["free", "enterprise"])
@pytest.mark.parametrize("path", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_template_deploys_completely_in_moto(path: Path, tier: str) -> None:
    info = summarize(path)
    with mock_aws():
        created = deploy(info, tier)
    assert set(created) == set(info.resources)
    assert set(created.values()) == {"CREATE_COMPLETE"}


def test_baseline_creates_the_named_roles_and_tenant_parameter() -> None:
    access = summarize(example_spec_path().parent / "templates" / "baseline" / "access.yaml")
    platform = summarize(example_spec_path().parent / "templates" / "baseline" / "platform.yaml")
    with mock_aws():
        deploy(access, "free", stack="stockade-access")
        deploy(platform, "free", stack="stockade-platform")
        iam = boto3.client("iam", region_name="us-east-1")
        trust = iam.get_role(RoleName="StockadeDeployRole")["Role"]["AssumeRolePolicyDocument"]
        assert "111122223333" in str(trust)
        for role in ("Read", "Scan", "ReadOnly", "Operator", "BreakGlass"):
            iam.get_role(RoleName=f"Stockade{role}Role")
        locked = iam.get_role_policy(RoleName=ORG_ACCESS_ROLE, PolicyName="stockade-locked")
        assert locked["PolicyDocument"]["Statement"][0]["Effect"] == "Deny"
        ssm = boto3.client("ssm", region_name="us-east-1")
        assert ssm.get_parameter(Name="/stockade/tenant-id")["Parameter"]["Value"] == "acme"


@pytest.mark.parametrize("service", ["orders", "notifications"])
def test_topics_subscribe_their_queues(service: str) -> None:
    info = summarize(example_spec_path().parent / "templates" / "services" / f"{service}.yaml")
    with mock_aws():
        deploy(info, "standard")
        subscriptions = boto3.client("sns", region_name="us-east-1").list_subscriptions()
    assert [s["Protocol"] for s in subscriptions["Subscriptions"]] == ["sqs"]
