"""Change-set deployments against CloudFormation as AWS documents it, where moto differs.

moto computes and executes change sets synchronously, keeps executed change sets, never sets a
stack's ``ChangeSetId`` and never rolls back. ``AwsLikeCloudFormation`` is a small in-memory
client double with AWS's documented behaviour instead: change sets are computed over a few
polls (``CREATE_PENDING`` → ``CREATE_IN_PROGRESS`` → ``CREATE_COMPLETE``/``FAILED``), "no
changes" is a ``FAILED`` change set, duplicate names are ``AlreadyExistsException``, executions
run over a few polls, delete every change set of the stack and record the stack's
``ChangeSetId``, and a resource named ``FailMe`` makes the operation roll back. The adapter under
test is the real one; only the client is replaced.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stockade.cloud.aws.cloudformation import CloudFormationStacks
from stockade.cloud.ports import DeployStart
from stockade.domain.errors import (
    CloudError,
    StackDeploymentFailed,
    ThrottledError,
    TransientCloudError,
)

GOOD = """\
Parameters:
  Size:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""
FAILING = GOOD + "  FailMe:\n    Type: AWS::SQS::Queue\n"
ACCOUNT = "111122223333"
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create "
    "a change set."
)


def _error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


class AwsLikeCloudFormation:
    """The CloudFormation calls the adapter makes, answered the way AWS answers them."""

    def __init__(self) -> None:
        self.stacks: list[dict[str, Any]] = []  # deleted ones too, as AWS keeps them by id
        self.change_sets: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.fail_next: dict[str, ClientError] = {}
        self._ids = itertools.count(1)

    # -- helpers --------------------------------------------------------------------------

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        if operation in self.fail_next:
            raise self.fail_next.pop(operation)

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:{kind}/{name}/{next(self._ids):08x}"

    def _stack(self, name_or_id: str, operation: str) -> dict[str, Any]:
        for stack in self.stacks:
            if stack["StackId"] == name_or_id or (
                stack["StackName"] == name_or_id and stack["StackStatus"] != "DELETE_COMPLETE"
            ):
                return stack
        raise _error(operation, "ValidationError", f"Stack with id {name_or_id} does not exist")

    def _event(self, stack: dict[str, Any], logical: str, status: str, reason: str = "") -> None:
        is_stack = logical == stack["StackName"]
        stack["_events"].insert(
            0,
            {
                "StackId": stack["StackId"],
                "StackName": stack["StackName"],
                "LogicalResourceId": logical,
                "PhysicalResourceId": stack["StackId"] if is_stack else f"{logical}-physical",
                "ResourceType": "AWS::CloudFormation::Stack" if is_stack else "AWS::SQS::Queue",
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
            },
        )

    def _advance(self, stack: dict[str, Any]) -> None:
        """Stack operations take a couple of DescribeStacks polls."""
        if stack.get("_hold"):
            stack["_hold"] -= 1
        elif stack["_then"]:
            status = stack["_then"].pop(0)
            stack["StackStatus"] = status
            self._event(stack, stack["StackName"], status)
            if not stack["_then"] and stack.get("_executing"):
                change_set = self.change_sets.pop(stack.pop("_executing"))
                failed = "ROLLBACK" in status
                change_set["ExecutionStatus"] = "EXECUTE_FAILED" if failed else "EXECUTE_COMPLETE"

    def _public(self, stack: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in stack.items() if not k.startswith("_")}

    def executions(self, name: str) -> int:
        return sum(1 for c in self.calls if c == f"ExecuteChangeSet:{name}")

    # -- the API --------------------------------------------------------------------------

    def describe_stacks(self, StackName: str | None = None, NextToken: str | None = None) -> Any:
        self._call("DescribeStacks")
        if StackName is not None:
            stack = self._stack(StackName, "DescribeStacks")
            self._advance(stack)
            return {"Stacks": [self._public(stack)]}
        live = [s for s in self.stacks if s["StackStatus"] != "DELETE_COMPLETE"]
        start = int(NextToken or 0)
        page: dict[str, Any] = {"Stacks": [self._public(s) for s in live[start : start + 2]]}
        if start + 2 < len(live):
            page["NextToken"] = str(start + 2)
        return page

    def list_change_sets(self, StackName: str, NextToken: str | None = None) -> Any:
        self._call("ListChangeSets")
        stack = self._stack(StackName, "ListChangeSets")
        keys = ("StackId", "StackName", "ChangeSetId", "ChangeSetName", "ExecutionStatus")
        return {
            "Summaries": [
                {k: c[k] for k in (*keys, "Status", "StatusReason", "CreationTime") if k in c}
                for c in self.change_sets.values()
                if c["StackId"] == stack["StackId"]
            ]
        }

    def create_change_set(self, **kwargs: Any) -> Any:
        self._call("CreateChangeSet")
        name, change_set_name = kwargs["StackName"], kwargs["ChangeSetName"]
        if "!Ref Nowhere" in kwargs["TemplateBody"]:
            raise _error(
                "CreateChangeSet",
                "ValidationError",
                "Template format error: Unresolved resource dependencies [Nowhere] in the "
                "Resources block of the template",
            )
        live = [s for s in self.stacks if s["StackName"] == name]
        stack = next((s for s in live if s["StackStatus"] != "DELETE_COMPLETE"), None)
        if kwargs["ChangeSetType"] == "CREATE":
            if stack is not None and stack["StackStatus"] != "REVIEW_IN_PROGRESS":
                raise _error("CreateChangeSet", "AlreadyExistsException", f"Stack [{name}] exists")
            if stack is None:
                stack = {
                    "StackName": name,
                    "StackId": self._arn("stack", name),
                    "StackStatus": "REVIEW_IN_PROGRESS",
                    "CreationTime": datetime.now(UTC),
                    "Parameters": [],
                    "Tags": [],
                    "_template": None,
                    "_events": [],
                    "_then": [],
                }
                self.stacks.append(stack)
                self._event(stack, name, "REVIEW_IN_PROGRESS", "User Initiated")
        elif stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            raise _error("CreateChangeSet", "ValidationError", f"Stack [{name}] does not exist")
        for existing in self.change_sets.values():
            if existing["StackId"] == stack["StackId"] and existing["ChangeSetName"] == (
                change_set_name
            ):
                raise _error(
                    "CreateChangeSet", "AlreadyExistsException", f"{change_set_name} exists"
                )
        change_set_id = self._arn("changeSet", change_set_name)
        unchanged = kwargs["ChangeSetType"] == "UPDATE" and (
            stack["_template"] == kwargs["TemplateBody"]
            and stack["Parameters"] == kwargs["Parameters"]
            and stack["Tags"] == kwargs["Tags"]
        )
        self.change_sets[change_set_id] = {
            "StackId": stack["StackId"],
            "StackName": name,
            "ChangeSetId": change_set_id,
            "ChangeSetName": change_set_name,
            "Status": "CREATE_PENDING",
            "ExecutionStatus": "UNAVAILABLE",
            "CreationTime": datetime.now(UTC),
            "_type": kwargs["ChangeSetType"],
            "_final": ("FAILED", "UNAVAILABLE", NO_CHANGES)
            if unchanged
            else ("CREATE_COMPLETE", "AVAILABLE", None),
            "_polls": 2,
            "_request": kwargs,
        }
        if stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            stack["ChangeSetId"] = change_set_id
        return {"Id": change_set_id, "StackId": stack["StackId"]}

    def describe_change_set(self, ChangeSetName: str, StackName: str | None = None) -> Any:
        self._call("DescribeChangeSet")
        change_set = self.change_sets.get(ChangeSetName)
        if change_set is None:
            raise _error("DescribeChangeSet", "ChangeSetNotFound", ChangeSetName, status=404)
        if change_set["_polls"]:
            change_set["_polls"] -= 1
            change_set["Status"] = "CREATE_IN_PROGRESS"
        else:
            change_set["Status"], change_set["ExecutionStatus"], reason = change_set["_final"]
            if reason:
                change_set["StatusReason"] = reason
        return {k: v for k, v in change_set.items() if not k.startswith("_")}

    def execute_change_set(self, ChangeSetName: str, ClientRequestToken: str) -> Any:
        self._call("ExecuteChangeSet")
        change_set = self.change_sets.get(ChangeSetName)
        if change_set is None:
            raise _error("ExecuteChangeSet", "ChangeSetNotFound", ChangeSetName, status=404)
        if change_set["ExecutionStatus"] != "AVAILABLE":
            raise _error("ExecuteChangeSet", "InvalidChangeSetStatus", "not executable")
        stack = self._stack(change_set["StackId"], "ExecuteChangeSet")
        self.calls.append(f"ExecuteChangeSet:{stack['StackName']}")
        request = change_set["_request"]
        creating = change_set["_type"] == "CREATE"
        failing = "FailMe" in request["TemplateBody"]
        verb = "CREATE" if creating else "UPDATE"
        stack["StackStatus"] = f"{verb}_IN_PROGRESS"
        self._event(stack, stack["StackName"], f"{verb}_IN_PROGRESS", "User Initiated")
        if failing:
            self._event(stack, "FailMe", f"{verb}_FAILED", "Queue name already taken")
            stack["StackStatusReason"] = "The following resource(s) failed: [FailMe]."
            stack["_then"] = (
                ["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
                if creating
                else ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]
            )
        else:
            stack["_template"] = request["TemplateBody"]
            stack["Parameters"] = request["Parameters"]
            stack["Tags"] = request["Tags"]
            stack["_then"] = [f"{verb}_COMPLETE"]
        stack["ChangeSetId"] = ChangeSetName
        stack["_executing"] = ChangeSetName
        stack["_hold"] = 1
        change_set["ExecutionStatus"] = "EXECUTE_IN_PROGRESS"
        # AWS deletes every other change set of the stack; ours goes when the execution ends
        for other in [c for c, v in self.change_sets.items() if v["StackId"] == stack["StackId"]]:
            if other != ChangeSetName:
                del self.change_sets[other]
        return {}

    def delete_change_set(self, ChangeSetName: str) -> Any:
        self._call("DeleteChangeSet")
        self.change_sets.pop(ChangeSetName, None)
        return {}

    def delete_stack(self, StackName: str) -> Any:
        self._call("DeleteStack")
        stack = self._stack(StackName, "DeleteStack")
        self.calls.append(f"DeleteStack:{stack['StackName']}")
        stack["StackStatus"] = "DELETE_IN_PROGRESS"
        stack["_then"] = ["DELETE_COMPLETE"]
        for key in [c for c, v in self.change_sets.items() if v["StackId"] == stack["StackId"]]:
            del self.change_sets[key]
        return {}

    def describe_stack_events(self, StackName: str) -> Any:
        self._call("DescribeStackEvents")
        return {"StackEvents": list(self._stack(StackName, "DescribeStackEvents")["_events"])}


@pytest.fixture
def aws() -> AwsLikeCloudFormation:
    return AwsLikeCloudFormation()


@pytest.fixture
def stacks(aws: AwsLikeCloudFormation) -> CloudFormationStacks:
    return CloudFormationStacks(aws)


def deploy(
    stacks: CloudFormationStacks, change_set: str, *, template: str = GOOD, size: str = "s"
) -> DeployStart:
    return stacks.deploy_stack(
        name="svc",
        template_body=template,
        parameters={"Size": size},
        tags={"stockade:tenant": "acme"},
        change_set_name=change_set,
        poll_interval=0.0,
    )


def settle(stacks: CloudFormationStacks) -> str:
    return stacks.wait_stack(name="svc", timeout=60, poll_interval=0.0).status


def test_create_then_update_waits_for_the_change_sets_and_the_stack(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    created = deploy(stacks, "r1-a1")
    assert created.executed and created.change_set_type == "CREATE"
    assert settle(stacks) == "CREATE_COMPLETE"

    updated = deploy(stacks, "r2-a1", size="m")
    assert updated.executed and updated.change_set_type == "UPDATE"
    assert updated.stack_id == created.stack_id
    assert settle(stacks) == "UPDATE_COMPLETE"
    assert aws.executions("svc") == 2


def test_no_changes_is_a_failed_change_set_and_success(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    deploy(stacks, "r1-a1")
    settle(stacks)

    same = deploy(stacks, "r2-a1")
    retried = deploy(stacks, "r2-a1")

    assert same.no_changes and not same.executed and same.change_set_id
    assert retried.no_changes and retried.resumed and retried.change_set_id == same.change_set_id
    assert aws.executions("svc") == 1


def test_a_change_set_aws_deleted_after_executing_it_is_not_executed_again(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    first = deploy(stacks, "r1-a1")
    settle(stacks)  # the execution is over: AWS has deleted the change set
    assert not aws.change_sets

    again = deploy(stacks, "r1-a1")

    assert again.executed and again.resumed and again.change_set_type == "CREATE"
    assert again.change_set_id == first.change_set_id
    assert aws.executions("svc") == 1
    assert "CreateChangeSet" not in aws.calls[aws.calls.index("ExecuteChangeSet") + 1 :]


def test_a_retry_while_the_execution_runs_reports_it(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    deploy(stacks, "r1-a1")
    settle(stacks)
    deploy(stacks, "r2-a1", size="m")  # executing: the stack is UPDATE_IN_PROGRESS

    again = deploy(stacks, "r2-a1", size="m")

    assert again.executed and again.resumed and again.change_set_type == "UPDATE"
    assert aws.executions("svc") == 2
    assert settle(stacks) == "UPDATE_COMPLETE"


def test_a_change_set_whose_create_response_was_lost_is_carried_on(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(stacks, "r1-a1")
    settle(stacks)
    # CreateChangeSet succeeded but its answer was lost, and ListChangeSets was stale
    aws.create_change_set(
        StackName="svc",
        ChangeSetName="r2-a1",
        ChangeSetType="UPDATE",
        TemplateBody=GOOD,
        Parameters=[{"ParameterKey": "Size", "ParameterValue": "m"}],
        Tags=[{"Key": "stockade:tenant", "Value": "acme"}],
    )
    real_list = aws.list_change_sets
    lists: list[str] = []

    def stale_once(**kwargs: Any) -> Any:
        lists.append(kwargs["StackName"])
        return {"Summaries": []} if len(lists) == 1 else real_list(**kwargs)

    monkeypatch.setattr(aws, "list_change_sets", stale_once)

    again = deploy(stacks, "r2-a1", size="m")

    assert again.executed and again.resumed
    assert aws.executions("svc") == 2


def test_a_stack_whose_creation_rolled_back_is_deleted_and_created_again(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    failed = deploy(stacks, "r1-a1", template=FAILING)
    with pytest.raises(StackDeploymentFailed) as info:
        settle(stacks)
    message = info.value.message
    assert "ended ROLLBACK_COMPLETE" in message
    assert "first failure: FailMe (AWS::SQS::Queue): Queue name already taken" in message

    # the same attempt again: it was executed, so it is reported, not redone
    again = deploy(stacks, "r1-a1", template=FAILING)
    assert again.executed and again.resumed and aws.executions("svc") == 1

    fixed = deploy(stacks, "r1-a2")

    assert fixed.executed and fixed.change_set_type == "CREATE"
    assert fixed.stack_id != failed.stack_id
    assert "DeleteStack:svc" in aws.calls
    assert settle(stacks) == "CREATE_COMPLETE"


def test_a_review_in_progress_stack_from_an_earlier_attempt_is_replaced(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    aws.create_change_set(
        StackName="svc",
        ChangeSetName="r1-a1",
        ChangeSetType="CREATE",
        TemplateBody=GOOD,
        Parameters=[{"ParameterKey": "Size", "ParameterValue": "s"}],
        Tags=[],
    )

    start = deploy(stacks, "r1-a2")

    assert start.executed and start.change_set_type == "CREATE"
    assert [s["StackStatus"] for s in aws.stacks if s["StackName"] == "svc"] == [
        "DELETE_COMPLETE",
        "CREATE_IN_PROGRESS",
    ]


def test_a_failed_update_reports_the_first_failed_resource(
    stacks: CloudFormationStacks,
) -> None:
    deploy(stacks, "r1-a1")
    settle(stacks)
    deploy(stacks, "r2-a1", template=FAILING)

    with pytest.raises(StackDeploymentFailed, match="ended UPDATE_ROLLBACK_COMPLETE") as info:
        settle(stacks)
    assert "FailMe (AWS::SQS::Queue): Queue name already taken" in info.value.message
    assert not info.value.transient

    # UPDATE_ROLLBACK_COMPLETE can be updated: the next release deploys normally
    assert deploy(stacks, "r3-a1", size="m").executed
    assert settle(stacks) == "UPDATE_COMPLETE"


def test_a_template_error_from_cloudformation_is_permanent(stacks: CloudFormationStacks) -> None:
    template = GOOD + "    Properties:\n      TopicName: !Ref Nowhere\n"
    with pytest.raises(StackDeploymentFailed, match="Unresolved resource dependencies") as info:
        deploy(stacks, "r1-a1", template=template)
    assert not info.value.transient


def test_throttling_is_transient(aws: AwsLikeCloudFormation, stacks: CloudFormationStacks) -> None:
    aws.fail_next["DescribeStacks"] = _error("DescribeStacks", "Throttling", "Rate exceeded")
    with pytest.raises(ThrottledError) as info:
        deploy(stacks, "r1-a1")
    assert info.value.transient
    assert deploy(stacks, "r1-a1").executed  # and the retry carries on


def test_a_stack_busy_with_another_operation_is_transient(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    deploy(stacks, "r1-a1")
    settle(stacks)
    deploy(stacks, "r2-a1", size="m")  # running

    with pytest.raises(TransientCloudError, match="another operation is running"):
        deploy(stacks, "r3-a1", size="l")


def test_a_stack_that_needs_repair_is_a_permanent_failure(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    deploy(stacks, "r1-a1")
    settle(stacks)
    aws.stacks[0]["StackStatus"] = "UPDATE_ROLLBACK_FAILED"

    with pytest.raises(StackDeploymentFailed, match="UPDATE_ROLLBACK_FAILED") as info:
        deploy(stacks, "r2-a1", size="m")
    assert not info.value.transient and isinstance(info.value, CloudError)


def test_change_set_creation_that_never_finishes_times_out_transiently(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    original = aws.describe_change_set

    def forever_pending(**kwargs: Any) -> Any:
        answer = original(**kwargs)
        return {**answer, "Status": "CREATE_IN_PROGRESS", "ExecutionStatus": "UNAVAILABLE"}

    monkeypatch.setattr(aws, "describe_change_set", forever_pending)
    with pytest.raises(TransientCloudError, match="still CREATE_IN_PROGRESS"):
        stacks.deploy_stack(
            name="svc",
            template_body=GOOD,
            parameters={"Size": "s"},
            tags={},
            change_set_name="r1-a1",
            timeout=300,
            poll_interval=10,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert now[0] == pytest.approx(300)
    assert aws.executions("svc") == 0


def test_managed_stacks_are_read_page_by_page(
    aws: AwsLikeCloudFormation, stacks: CloudFormationStacks
) -> None:
    for i in range(5):
        stacks.deploy_stack(
            name=f"svc-{i}",
            template_body=GOOD,
            parameters={"Size": "s"},
            tags={"stockade:tenant": "acme"} if i != 3 else {},
            change_set_name="r1-a1",
            poll_interval=0.0,
        )
        stacks.wait_stack(name=f"svc-{i}", timeout=60, poll_interval=0.0)

    managed = stacks.list_managed_stacks()

    assert [s.name for s in managed] == ["svc-0", "svc-1", "svc-2", "svc-4"]
    assert aws.calls.count("DescribeStacks") >= 3
