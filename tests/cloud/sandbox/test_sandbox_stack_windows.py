"""Stack operations take time in the sandbox, as on AWS: in progress for a while, then done.

With ``stack_seconds`` set, a stack created, updated or deleted shows the operation's
in-progress status (and no outputs) until the window has passed, and AWS's errors refuse
other operations on it meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import client, wait_for

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.settings import SandboxSettings

#: a stack operation stays in progress for 60 AWS seconds / 60 = 1 s of wall time
SLOW_STACKS = SandboxSettings(time_scale=60.0, latency="off", seed=7, stack_seconds=60.0)

TEMPLATE = """\
Parameters:
  Version:
    Type: String
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/${AWS::StackName}/version"
      Type: String
      Value: !Ref Version
Outputs:
  Version:
    Value: !Ref Version
"""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    with SandboxProcess(tmp_path_factory.mktemp("windows"), SLOW_STACKS) as process:
        yield process


@pytest.fixture
def cfn(sandbox: SandboxProcess) -> Any:
    return client(sandbox, "cloudformation")


def change_set(stack: str, name: str, kind: str, version: str) -> dict[str, Any]:
    """CreateChangeSet's arguments for TEMPLATE at ``version``."""
    return {
        "StackName": stack,
        "ChangeSetName": name,
        "ChangeSetType": kind,
        "TemplateBody": TEMPLATE,
        "Parameters": [{"ParameterKey": "Version", "ParameterValue": version}],
    }


def deploy(cfn: Any, stack: str, name: str, kind: str, version: str) -> dict[str, Any]:
    """CreateChangeSet and ExecuteChangeSet; return the change set as created."""
    made: dict[str, Any] = cfn.create_change_set(**change_set(stack, name, kind, version))
    cfn.execute_change_set(ChangeSetName=made["Id"])
    return made


def described(cfn: Any, stack: str) -> dict[str, Any]:
    found: dict[str, Any] = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return found


def wait_status(cfn: Any, stack: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: (s := described(cfn, stack))["StackStatus"] == status and s
    )
    return found


def listed(cfn: Any, stack_id: str, **filters: Any) -> list[str]:
    """The statuses ListStacks and the DescribeStacks listing show for the stack."""
    summaries = cfn.list_stacks(**filters)["StackSummaries"]
    statuses = [s["StackStatus"] for s in summaries if s["StackId"] == stack_id]
    if not filters:
        stacks = cfn.describe_stacks()["Stacks"]
        statuses += [s["StackStatus"] for s in stacks if s["StackId"] == stack_id]
    return statuses


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    error = refused.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_create_is_in_progress_then_complete(cfn: Any) -> None:
    made = deploy(cfn, "svc-create", "r1", "CREATE", "1")

    by_name = described(cfn, "svc-create")
    assert by_name["StackStatus"] == "CREATE_IN_PROGRESS"
    assert "Outputs" not in by_name
    assert described(cfn, made["StackId"])["StackStatus"] == "CREATE_IN_PROGRESS"
    assert listed(cfn, made["StackId"]) == ["CREATE_IN_PROGRESS"] * 2
    assert listed(cfn, made["StackId"], StackStatusFilter=["CREATE_COMPLETE"]) == []
    events = cfn.describe_stack_events(StackName="svc-create")["StackEvents"]
    assert events[0]["ResourceStatus"] == "CREATE_IN_PROGRESS"
    change_set = cfn.describe_change_set(ChangeSetName=made["Id"])
    assert change_set["ExecutionStatus"] == "EXECUTE_IN_PROGRESS"

    done = wait_status(cfn, "svc-create", "CREATE_COMPLETE")
    assert outputs(done) == {"Version": "1"}
    assert listed(cfn, made["StackId"], StackStatusFilter=["CREATE_COMPLETE"]) == [
        "CREATE_COMPLETE"
    ]
    events = cfn.describe_stack_events(StackName="svc-create")["StackEvents"]
    assert events[0]["ResourceStatus"] == "CREATE_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=made["Id"])["ExecutionStatus"] == (
        "EXECUTE_COMPLETE"
    )


def test_an_update_is_in_progress_then_complete(cfn: Any) -> None:
    deploy(cfn, "svc-update", "r1", "CREATE", "1")
    wait_status(cfn, "svc-update", "CREATE_COMPLETE")

    made = deploy(cfn, "svc-update", "r2", "UPDATE", "2")

    updating = described(cfn, "svc-update")
    assert updating["StackStatus"] == "UPDATE_IN_PROGRESS"
    assert "Outputs" not in updating
    summaries = cfn.list_change_sets(StackName="svc-update")["Summaries"]
    executing = [s["ExecutionStatus"] for s in summaries if s["ChangeSetId"] == made["Id"]]
    assert executing == ["EXECUTE_IN_PROGRESS"]
    done = wait_status(cfn, "svc-update", "UPDATE_COMPLETE")
    assert outputs(done) == {"Version": "2"}


def test_a_deleted_stack_is_deleting_then_gone(cfn: Any) -> None:
    made = deploy(cfn, "svc-delete", "r1", "CREATE", "1")
    wait_status(cfn, "svc-delete", "CREATE_COMPLETE")

    cfn.delete_stack(StackName="svc-delete")

    deleting = described(cfn, "svc-delete")
    assert deleting["StackStatus"] == "DELETE_IN_PROGRESS"
    assert deleting["StackId"] == made["StackId"]
    assert listed(cfn, made["StackId"]) == ["DELETE_IN_PROGRESS"] * 2
    events = cfn.describe_stack_events(StackName="svc-delete")["StackEvents"]
    assert events[0]["ResourceStatus"] == "DELETE_IN_PROGRESS"

    def gone() -> bool:
        try:
            described(cfn, "svc-delete")
        except ClientError as exc:
            return "does not exist" in str(exc)
        return False

    wait_for(gone)
    assert described(cfn, made["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert listed(cfn, made["StackId"], StackStatusFilter=["DELETE_COMPLETE"]) == [
        "DELETE_COMPLETE"
    ]


def test_a_stack_being_created_refuses_other_operations(cfn: Any) -> None:
    made = deploy(cfn, "svc-busy", "r1", "CREATE", "1")
    busy = f"Stack:{made['StackId']} is in CREATE_IN_PROGRESS state and can not be updated."

    update = error_of(
        cfn.update_stack,
        StackName="svc-busy",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Version", "ParameterValue": "2"}],
    )
    another = error_of(cfn.create_change_set, **change_set("svc-busy", "r2", "UPDATE", "2"))
    execute = error_of(cfn.execute_change_set, ChangeSetName=made["Id"])
    again = error_of(cfn.create_stack, StackName="svc-busy", TemplateBody=TEMPLATE)

    assert update == ("ValidationError", busy, 400)
    assert another == ("ValidationError", busy, 400)
    assert execute[0] == "InvalidChangeSetStatus" and execute[2] == 400
    assert again[0] == "AlreadyExistsException"
    done = wait_status(cfn, "svc-busy", "CREATE_COMPLETE")
    assert outputs(done) == {"Version": "1"}  # nothing refused was applied
    summaries = cfn.list_change_sets(StackName="svc-busy")["Summaries"]
    assert [c["ChangeSetName"] for c in summaries if c["StackName"] == "svc-busy"] == ["r1"]


def test_a_stack_being_updated_cannot_be_deleted(cfn: Any) -> None:
    deploy(cfn, "svc-locked", "r1", "CREATE", "1")
    wait_status(cfn, "svc-locked", "CREATE_COMPLETE")
    spare = cfn.create_change_set(**change_set("svc-locked", "spare", "UPDATE", "3"))
    made = deploy(cfn, "svc-locked", "r2", "UPDATE", "2")

    delete = error_of(cfn.delete_stack, StackName="svc-locked")
    other = error_of(cfn.execute_change_set, ChangeSetName=spare["Id"])

    assert delete == (
        "ValidationError",
        f"Stack [{made['StackId']}] cannot be deleted while in status UPDATE_IN_PROGRESS",
        400,
    )
    assert other[0] == "InvalidChangeSetStatus"
    assert "UPDATE_IN_PROGRESS" in other[1]
    wait_status(cfn, "svc-locked", "UPDATE_COMPLETE")


def test_a_stack_being_created_can_be_deleted_and_its_name_waits(cfn: Any) -> None:
    deploy(cfn, "svc-cancel", "r1", "CREATE", "1")

    cfn.delete_stack(StackName="svc-cancel")  # AWS cancels the creation and deletes

    assert described(cfn, "svc-cancel")["StackStatus"] == "DELETE_IN_PROGRESS"
    cfn.delete_stack(StackName="svc-cancel")  # deleting a stack being deleted: a no-op
    recreate = error_of(cfn.create_stack, StackName="svc-cancel", TemplateBody=TEMPLATE)
    create = error_of(cfn.create_change_set, **change_set("svc-cancel", "r2", "CREATE", "2"))
    assert recreate[0] == "AlreadyExistsException"
    assert create[0] == "ValidationError" and "DELETE_IN_PROGRESS state" in create[1]
