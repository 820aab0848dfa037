"""The sandbox's log of stack operations, and stack windows across a restart.

Every successful state-changing CloudFormation request is logged with its account, stack and
change set (``SandboxProcess.stack_operations``); refused requests are not. A restarted sandbox
rebuilds the log and the windows from its journal, at the requests' recorded times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import FAST, client, client_in, wait_for

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.settings import SandboxSettings

Start = Callable[..., SandboxProcess]

TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""
TENANT_A = "111111111111"
TENANT_B = "222222222222"


def _logged(sandbox: SandboxProcess, account_id: str | None = None) -> list[tuple[Any, ...]]:
    return [
        (op.account_id, op.operation, op.stack_name, op.change_set_name)
        for op in sandbox.stack_operations(account_id)
    ]


def test_every_successful_stack_operation_is_logged(shared_sandbox: SandboxProcess) -> None:
    a = client_in(shared_sandbox, "cloudformation", TENANT_A)
    b = client_in(shared_sandbox, "cloudformation", TENANT_B)
    started = time.time()

    a.create_stack(StackName="plain", TemplateBody=TEMPLATE)
    a.update_stack(StackName="plain", TemplateBody=TEMPLATE.replace("Topic:", "Other:"))
    with pytest.raises(ClientError):  # refused: not logged
        a.update_stack(StackName="missing", TemplateBody=TEMPLATE)
    made = b.create_change_set(
        StackName="svc", ChangeSetName="r1", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    spare = b.create_change_set(
        StackName="other", ChangeSetName="spare", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    b.execute_change_set(ChangeSetName=made["Id"])  # by ARN: the log names the stack
    b.delete_change_set(ChangeSetName=spare["Id"])
    a.delete_stack(StackName="plain")

    assert _logged(shared_sandbox, TENANT_A) == [
        (TENANT_A, "CreateStack", "plain", None),
        (TENANT_A, "UpdateStack", "plain", None),
        (TENANT_A, "DeleteStack", "plain", None),
    ]
    assert _logged(shared_sandbox, TENANT_B) == [
        (TENANT_B, "CreateChangeSet", "svc", "r1"),
        (TENANT_B, "CreateChangeSet", "other", "spare"),
        (TENANT_B, "ExecuteChangeSet", "svc", "r1"),
        (TENANT_B, "DeleteChangeSet", "other", "spare"),
    ]
    everything = shared_sandbox.stack_operations()
    ours = [op for op in everything if op.account_id in (TENANT_A, TENANT_B)]
    assert len(ours) == 7
    assert [op.seq for op in everything] == sorted({op.seq for op in everything})
    assert all(started - 1 <= op.at <= time.time() for op in ours)
    assert shared_sandbox.stack_operations("999999999999") == []


def _status(cfn: Any, stack: str) -> str:
    return str(cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def test_a_restart_keeps_the_windows_and_the_log(start_sandbox: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    # windows of 1,800 AWS seconds: 30 s at this time scale, far longer than a restart
    long_windows = SandboxSettings(time_scale=60.0, latency="off", seed=7, stack_seconds=1800)
    first = start_sandbox(state, long_windows)
    cfn = client(first, "cloudformation")
    made = cfn.create_change_set(
        StackName="svc", ChangeSetName="r1", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    cfn.execute_change_set(ChangeSetName=made["Id"])
    executed = time.time()
    with pytest.raises(ClientError, match="CREATE_IN_PROGRESS state"):
        cfn.update_stack(StackName="svc", TemplateBody=TEMPLATE.replace("Topic:", "Other:"))
    logged = first.stack_operations()
    first.stop()

    second = start_sandbox(state, long_windows)
    again = client(second, "cloudformation")

    assert second.restored_requests == 2  # the refused update was never journaled
    assert second.stack_operations() == logged
    assert [op.operation for op in logged] == ["CreateChangeSet", "ExecuteChangeSet"]
    assert _status(again, "svc") == "CREATE_IN_PROGRESS"
    with pytest.raises(ClientError, match="CREATE_IN_PROGRESS state"):
        again.update_stack(StackName="svc", TemplateBody=TEMPLATE.replace("Topic:", "Other:"))
    second.stop()

    # the window runs from the execution's recorded time, not from the replay: with windows
    # of one second, it has ended by the time the journal is replayed
    wait_for(lambda: time.time() > executed + 1.0)
    short_windows = long_windows.model_copy(update={"time_scale": 1800.0})
    third = start_sandbox(state, short_windows)
    assert _status(client(third, "cloudformation"), "svc") == "CREATE_COMPLETE"
    assert third.stack_operations() == logged


def test_without_stack_seconds_operations_complete_at_once(shared_sandbox: SandboxProcess) -> None:
    assert FAST.stack_seconds == 0
    cfn = client(shared_sandbox, "cloudformation")
    made = cfn.create_change_set(
        StackName="instant", ChangeSetName="r1", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    cfn.execute_change_set(ChangeSetName=made["Id"])

    assert _status(cfn, "instant") == "CREATE_COMPLETE"
    cfn.delete_stack(StackName="instant")
    with pytest.raises(ClientError, match="does not exist"):
        _status(cfn, "instant")
