"""Plumbing shared by the CloudFormation adapter modules: stack states, DescribeStacks and
paging, the caller's deadline, and turning a failed stack into a message naming its cause.

Who calls it: ``cloud.aws.cloudformation`` and ``cloud.aws.cloudformation_changesets``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from stockade.cloud.aws.errors import error_code, translate
from stockade.cloud.ports import StackInfo
from stockade.domain.errors import (
    CloudError,
)

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]

SUCCEEDED_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
#: a stack that never finished its creation: nothing is deployed, it can only be deleted
UNBORN_STATES = frozenset({"REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "CREATE_FAILED"})
#: a stack CloudFormation cannot update until someone repairs it
BROKEN_STATES = frozenset(
    {"ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"}
)
EXECUTED = frozenset({"EXECUTE_IN_PROGRESS", "EXECUTE_COMPLETE", "EXECUTE_FAILED"})
#: a change set CloudFormation is still computing
PENDING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})
#: what CloudFormation says when a change set or update would change nothing (AWS, moto)
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
#: the stack event that opens an operation (the events before it belong to older operations)
OPERATION_STARTS = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "IMPORT_IN_PROGRESS"})


def timestamp(value: Any) -> float:
    return float(value.timestamp()) if value is not None else 0.0


def is_missing(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationError" and "does not exist" in str(exc)


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")) or error_code(exc)


def is_no_changes(text: str | None) -> bool:
    return bool(text) and any(marker in str(text) for marker in NO_CHANGES)


def change_set_name_of(change_set_id: str | None) -> str | None:
    """The name inside a change set ARN (``...:changeSet/NAME/UUID``)."""
    if not change_set_id or ":changeSet/" not in change_set_id:
        return None
    return change_set_id.split(":changeSet/", 1)[1].split("/", 1)[0]


def executed_type(status: str) -> str:
    """Whether the change set that brought a stack to ``status`` created it or updated it."""
    return "CREATE" if status.startswith(("REVIEW", "CREATE", "ROLLBACK")) else "UPDATE"


def stack_info(stack: dict[str, Any]) -> StackInfo:
    return StackInfo(
        name=stack["StackName"],
        stack_id=stack["StackId"],
        status=stack["StackStatus"],
        reason=stack.get("StackStatusReason"),
        tags=tuple((t["Key"], t["Value"]) for t in stack.get("Tags", [])),
        changed_at=timestamp(stack.get("LastUpdatedTime") or stack.get("CreationTime")),
        parameters=tuple(
            (p["ParameterKey"], str(p.get("ParameterValue", "")))
            for p in stack.get("Parameters", [])
        ),
        outputs=tuple(
            (o["OutputKey"], str(o.get("OutputValue", ""))) for o in stack.get("Outputs", [])
        ),
    )


class Deadline:
    """Polling within a time limit, on the caller's clock and sleep; each pause is ``backoff``
    times the last one, up to ``max_interval`` (by default the first interval: constant)."""

    def __init__(
        self,
        timeout: float,
        poll_interval: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        *,
        backoff: float = 1.0,
        max_interval: float | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._interval = poll_interval
        self._backoff = max(1.0, backoff)
        self._max_interval = max(poll_interval, max_interval or poll_interval)
        self.timeout = timeout
        self._at = clock() + timeout

    def passed(self) -> bool:
        return self._clock() >= self._at

    def pause(self) -> None:
        self._sleep(max(0.0, min(self._interval, self._at - self._clock())))
        self._interval = min(self._interval * self._backoff, self._max_interval)


class StackClient:
    """One boto3 CloudFormation client, with the reads both adapter modules need."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def describe(self, name_or_id: str) -> dict[str, Any] | None:
        """The stack as DescribeStacks returns it; None if there is none (or it is deleted
        and was asked for by name)."""
        with translate("cloudformation:DescribeStacks"):
            try:
                stacks = self.client.describe_stacks(StackName=name_or_id)["Stacks"]
            except ClientError as exc:
                if is_missing(exc):
                    return None
                raise
        return dict(stacks[0]) if stacks else None

    def delete(self, name_or_id: str) -> None:
        with translate("cloudformation:DeleteStack"):
            self.client.delete_stack(StackName=name_or_id)

    def pages(self, operation: str, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
        token: str | None = None
        while True:
            with translate(f"cloudformation:{operation}"):
                page = getattr(self.client, method)(
                    **kwargs, **({"NextToken": token} if token else {})
                )
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return

    def failure_message(self, info: StackInfo) -> str:
        text = f"stack {info.name!r} ended {info.status}"
        if info.reason:
            text += f": {info.reason}"
        cause = self.first_failure(info)
        if cause:
            text += f"; first failure: {cause}"
        return text

    def first_failure(self, info: StackInfo) -> str | None:
        """The earliest failed resource of the stack's last operation, from its events."""
        try:
            with translate("cloudformation:DescribeStackEvents"):
                events = self.client.describe_stack_events(StackName=info.stack_id)
        except CloudError:
            return None  # the failure itself is reported without its cause
        failures: list[dict[str, Any]] = []
        for event in events.get("StackEvents", []):  # newest first
            if event.get("PhysicalResourceId") == info.stack_id or (
                event.get("LogicalResourceId") == info.name
                and event.get("ResourceType") == "AWS::CloudFormation::Stack"
            ):
                if event.get("ResourceStatus") in OPERATION_STARTS:
                    break
                continue
            reason = str(event.get("ResourceStatusReason") or "")
            failed = str(event.get("ResourceStatus", "")).endswith("_FAILED")
            if failed and reason and "cancelled" not in reason.lower():
                failures.append(event)
        if not failures:
            return None
        first = failures[-1]
        return (
            f"{first.get('LogicalResourceId')} ({first.get('ResourceType')}): "
            f"{first.get('ResourceStatusReason')}"
        )


def parameter_list(parameters: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]
