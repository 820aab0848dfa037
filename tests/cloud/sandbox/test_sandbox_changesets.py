"""CloudFormation change sets in the sandbox behave like AWS's where Stockade depends on them.

Executing a change set brings its tags, the template's outputs and the stack's ``ChangeSetId``;
"no changes" is judged against the stack as it is now (template, parameters, tags) and is a
``FAILED`` change set, never an error; and a restarted sandbox replays all of it identically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import FAST, client

from stockade.cloud.sandbox.moto_patches import MARK, MotoPatches
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.errors import SandboxError

Start = Callable[..., SandboxProcess]

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: a tenant's events
Parameters:
  TenantId:
    Type: String
  Size:
    Type: String
    Default: small
Conditions:
  IsLarge: !Equals [!Ref Size, large]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "${TenantId}-${Size}"
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  TopicArn:
    Value: !Ref Topic
  QueueArn:
    Value: !GetAtt Queue.Arn
  LargeOnly:
    Condition: IsLarge
    Value: !Sub "${TenantId} is large"
"""
NO_CHANGES = "didn't contain changes"


def _change_set(
    cfn: Any,
    stack: str,
    name: str,
    kind: str,
    *,
    tags: dict[str, str] | None = None,
    template: str = TEMPLATE,
    **parameters: str,
) -> dict[str, Any]:
    """CreateChangeSet, then DescribeChangeSet (the sandbox computes it synchronously)."""
    made = cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=template,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    described: dict[str, Any] = cfn.describe_change_set(ChangeSetName=made["Id"])
    return described


def _deploy(
    cfn: Any,
    stack: str,
    name: str,
    kind: str,
    *,
    tags: dict[str, str] | None = None,
    **parameters: str,
) -> dict[str, Any]:
    """Create and execute a change set; return the stack as DescribeStacks shows it after."""
    change_set = _change_set(cfn, stack, name, kind, tags=tags, **parameters)
    assert change_set["Status"] == "CREATE_COMPLETE", change_set.get("StatusReason")
    cfn.execute_change_set(ChangeSetName=change_set["ChangeSetId"])
    return _stack(cfn, stack)


def _stack(cfn: Any, name: str) -> dict[str, Any]:
    stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return stack


def _tags(stack: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in stack.get("Tags", [])}


def _parameters(stack: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    with SandboxProcess(tmp_path_factory.mktemp("changesets"), FAST) as process:
        yield process


@pytest.fixture
def cfn(sandbox: SandboxProcess) -> Any:
    return client(sandbox, "cloudformation")


def test_a_created_stack_has_its_outputs_and_change_set_id(cfn: Any) -> None:
    created = _deploy(cfn, "svc-create", "r1", "CREATE", tags={"v": "1"}, TenantId="acme")

    assert created["StackStatus"] == "CREATE_COMPLETE"
    assert created["Description"] == "a tenant's events"
    assert _tags(created) == {"v": "1"}
    assert _parameters(created) == {"TenantId": "acme", "Size": "small"}
    outputs = _outputs(created)
    assert set(outputs) == {"TopicArn", "QueueArn"}  # LargeOnly's condition is false
    assert outputs["TopicArn"].startswith("arn:aws:sns:us-east-1:")
    assert outputs["QueueArn"].startswith("arn:aws:sqs:us-east-1:")
    assert ":changeSet/r1/" in created["ChangeSetId"]


def test_an_update_brings_its_tags_parameters_and_outputs(cfn: Any) -> None:
    created = _deploy(cfn, "svc-update", "r1", "CREATE", tags={"v": "1"}, TenantId="acme")

    updated = _deploy(
        cfn,
        "svc-update",
        "r2",
        "UPDATE",
        tags={"v": "2", "tier": "gold"},
        TenantId="acme",
        Size="large",
    )

    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    assert _tags(updated) == {"v": "2", "tier": "gold"}  # replaced, not merged
    assert _parameters(updated) == {"TenantId": "acme", "Size": "large"}
    outputs = _outputs(updated)
    assert outputs["LargeOnly"] == "acme is large"
    assert outputs["TopicArn"] == _outputs(created)["TopicArn"]
    assert ":changeSet/r2/" in updated["ChangeSetId"]


def test_an_update_without_tags_keeps_the_stack_tags(cfn: Any) -> None:
    _deploy(cfn, "svc-keep", "r1", "CREATE", tags={"v": "1"}, TenantId="acme")

    updated = _deploy(cfn, "svc-keep", "r2", "UPDATE", TenantId="acme", Size="large")

    assert _tags(updated) == {"v": "1"}


def test_going_back_to_earlier_parameters_updates_the_stack(cfn: Any) -> None:
    _deploy(cfn, "svc-back", "r1", "CREATE", TenantId="acme", Size="small")
    _deploy(cfn, "svc-back", "r2", "UPDATE", TenantId="acme", Size="large")

    back = _change_set(cfn, "svc-back", "r3", "UPDATE", TenantId="acme", Size="small")

    assert back["Status"] == "CREATE_COMPLETE" and back["ExecutionStatus"] == "AVAILABLE"
    cfn.execute_change_set(ChangeSetName=back["ChangeSetId"])
    stack = _stack(cfn, "svc-back")
    assert _parameters(stack) == {"TenantId": "acme", "Size": "small"}
    assert "LargeOnly" not in _outputs(stack)


def test_no_changes_is_a_failed_change_set_judged_on_the_current_stack(cfn: Any) -> None:
    _deploy(cfn, "svc-same", "r1", "CREATE", tags={"v": "1"}, TenantId="acme")
    _deploy(cfn, "svc-same", "r2", "UPDATE", tags={"v": "1"}, TenantId="acme", Size="large")

    same = _change_set(
        cfn, "svc-same", "r3", "UPDATE", tags={"v": "1"}, TenantId="acme", Size="large"
    )
    untagged = _change_set(cfn, "svc-same", "r4", "UPDATE", TenantId="acme", Size="large")
    retagged = _change_set(
        cfn, "svc-same", "r5", "UPDATE", tags={"v": "2"}, TenantId="acme", Size="large"
    )

    for unchanged in (same, untagged):
        assert unchanged["Status"] == "FAILED"
        assert unchanged["ExecutionStatus"] == "UNAVAILABLE"
        assert NO_CHANGES in unchanged["StatusReason"]
    # AWS updates a stack whose tags alone change
    assert retagged["Status"] == "CREATE_COMPLETE"


def test_a_default_given_explicitly_is_no_change(cfn: Any) -> None:
    _deploy(cfn, "svc-default", "r1", "CREATE", TenantId="acme")

    explicit = _change_set(cfn, "svc-default", "r2", "UPDATE", TenantId="acme", Size="small")

    assert explicit["Status"] == "FAILED" and NO_CHANGES in explicit["StatusReason"]


def test_a_template_change_is_a_change(cfn: Any) -> None:
    _deploy(cfn, "svc-template", "r1", "CREATE", TenantId="acme")
    grown = TEMPLATE.replace(
        "Outputs:",
        "  Second:\n    Type: AWS::SQS::Queue\nOutputs:\n  SecondUrl:\n    Value: !Ref Second",
    )

    change_set = _change_set(cfn, "svc-template", "r2", "UPDATE", template=grown, TenantId="acme")
    cfn.execute_change_set(ChangeSetName=change_set["ChangeSetId"])

    assert change_set["Status"] == "CREATE_COMPLETE"
    outputs = _outputs(_stack(cfn, "svc-template"))
    assert set(outputs) == {"TopicArn", "QueueArn", "SecondUrl"}
    assert outputs["SecondUrl"].startswith("https://")


def test_update_stack_still_refuses_an_update_without_changes(cfn: Any) -> None:
    _deploy(cfn, "svc-plain", "r1", "CREATE", TenantId="acme")

    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(
            StackName="svc-plain",
            TemplateBody=TEMPLATE,
            Parameters=[
                {"ParameterKey": "TenantId", "ParameterValue": "acme"},
                {"ParameterKey": "Size", "ParameterValue": "small"},
            ],
        )


def _snapshot(cfn: Any) -> dict[str, Any]:
    stacks = {
        s["StackName"]: {
            "id": s["StackId"],
            "status": s["StackStatus"],
            "tags": _tags(s),
            "parameters": _parameters(s),
            "outputs": _outputs(s),
            "change_set": s.get("ChangeSetId"),
        }
        for s in cfn.describe_stacks()["Stacks"]
    }
    change_sets = sorted(
        (c["ChangeSetId"], c["Status"], c["ExecutionStatus"])
        for c in cfn.list_change_sets(StackName="svc-restart")["Summaries"]
    )
    return {"stacks": stacks, "change_sets": change_sets}


def test_a_restart_replays_the_same_stacks(start_sandbox: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = start_sandbox(state, FAST)
    cfn = client(first, "cloudformation")
    _deploy(cfn, "svc-restart", "r1", "CREATE", tags={"v": "1"}, TenantId="acme")
    _deploy(cfn, "svc-restart", "r2", "UPDATE", tags={"v": "2"}, TenantId="acme", Size="large")
    _deploy(cfn, "svc-restart", "r3", "UPDATE", tags={"v": "3"}, TenantId="acme", Size="small")
    _change_set(cfn, "svc-restart", "r4", "UPDATE", tags={"v": "3"}, TenantId="acme")
    before = _snapshot(cfn)
    first.stop()

    second = start_sandbox(state, FAST)
    again = client(second, "cloudformation")

    assert second.restored_requests == 7
    assert _snapshot(again) == before
    stack = before["stacks"]["svc-restart"]
    assert stack["tags"] == {"v": "3"}
    assert stack["parameters"] == {"TenantId": "acme", "Size": "small"}
    assert set(stack["outputs"]) == {"TopicArn", "QueueArn"}
    assert ":changeSet/r3/" in stack["change_set"]
    assert [status for _, status, _ in before["change_sets"]].count("FAILED") == 1
    # and the restored stack is still judged as it is now
    large = _change_set(
        again, "svc-restart", "r5", "UPDATE", tags={"v": "3"}, TenantId="acme", Size="large"
    )
    assert large["Status"] == "CREATE_COMPLETE"


def test_a_moto_without_the_patched_internals_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.cloudformation import models

    monkeypatch.delattr(models.CloudFormationBackend, "execute_change_set")
    patches = MotoPatches()

    with pytest.raises(SandboxError, match=r"CloudFormationBackend\.execute_change_set is missing"):
        patches.apply()
    with pytest.raises(SandboxError):  # and on every later request for CloudFormation
        patches.before_backend("cloudformation")
    with pytest.raises(SandboxError):  # nor any other service: the server stops anyway
        patches.before_backend("sqs")
    assert not getattr(models.CloudFormationBackend.create_change_set, MARK, False)
