"""Deploying a CloudFormation stack through a change set, idempotently for one change set name.

See ``cloud.aws.cloudformation`` for the protocol and for where moto differs from AWS.
Who calls it: ``cloud.aws.cloudformation.CloudFormationStacks.deploy_stack``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from stockade.cloud.aws.cloudformation_common import (
    BROKEN_STATES,
    CAPABILITIES,
    EXECUTED,
    PENDING,
    UNBORN_STATES,
    Deadline,
    StackClient,
    change_set_name_of,
    error_message,
    executed_type,
    is_no_changes,
    parameter_list,
    tag_list,
    timestamp,
)
from stockade.cloud.aws.cloudformation_templates import TEMPLATE_HINT, resolve_parameters
from stockade.cloud.aws.errors import error_code, to_stockade, translate
from stockade.cloud.ports import DeployStart
from stockade.domain.errors import (
    ConflictError,
    StackDeploymentFailed,
    TransientCloudError,
)


class ChangeSetDeployer:
    """The change-set half of ``CloudFormationStacks``."""

    def __init__(self, stacks: StackClient) -> None:
        self._stacks = stacks

    def deploy(
        self,
        *,
        name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        change_set_name: str,
        deadline: Deadline,
    ) -> DeployStart:
        """``CloudFormationStacks.deploy_stack``, within ``deadline``."""
        resolved = resolve_parameters(template_body, parameters)

        stack = self._stacks.describe(name)
        while stack is not None and stack["StackStatus"] == "DELETE_IN_PROGRESS":
            if deadline.passed():
                raise TransientCloudError(
                    f"stack {name!r} is still being deleted after {deadline.timeout:.0f} s",
                    hint="it will be retried once the deletion has finished",
                )
            deadline.pause()
            stack = self._stacks.describe(stack["StackId"])
        if stack is not None and stack["StackStatus"] == "DELETE_COMPLETE":
            stack = None

        if stack is not None:
            status = stack["StackStatus"]
            existing = self._find_change_set(stack["StackId"], change_set_name)
            if existing is not None:
                if existing.get("ExecutionStatus") == "OBSOLETE":
                    # another execution changed the stack after ours was made: make it anew
                    self._delete_change_set(existing["ChangeSetId"])
                else:
                    return self._resume(stack, existing, deadline)
            elif status != "REVIEW_IN_PROGRESS" and (
                change_set_name_of(stack.get("ChangeSetId")) == change_set_name
            ):
                # executed, and CloudFormation has since deleted the change set itself
                return DeployStart(
                    stack_id=stack["StackId"],
                    change_set_id=stack.get("ChangeSetId"),
                    change_set_type=executed_type(status),
                    executed=True,
                    resumed=True,
                )
            if status in UNBORN_STATES:
                self._delete_unborn(stack, deadline)
                stack = None
            elif status in BROKEN_STATES:
                raise StackDeploymentFailed(
                    f"stack {name!r} is {status} and cannot be updated"
                    + (f": {stack['StackStatusReason']}" if stack.get("StackStatusReason") else ""),
                    hint="repair it in the tenant account (continue the rollback or delete "
                    "it), then deploy again",
                )
            elif status.endswith("_IN_PROGRESS"):
                raise TransientCloudError(
                    f"stack {name!r} is {status}: another operation is running on it",
                    hint="wait for it to finish (wait_stack), then deploy again",
                )

        change_set_type = "CREATE" if stack is None else "UPDATE"
        created = self._create_change_set(
            name=name,
            stack=stack,
            change_set_type=change_set_type,
            template_body=template_body,
            parameters=resolved,
            tags=tags,
            change_set_name=change_set_name,
        )
        if created is None:  # refused outright for having no changes (moto)
            assert stack is not None
            return DeployStart(
                stack_id=stack["StackId"],
                change_set_id=None,
                change_set_type=change_set_type,
                executed=False,
                no_changes=True,
            )
        change_set_id, stack_id, resumed = created
        summary = self._wait_change_set(name, change_set_id, deadline)
        return self._finish(name, stack_id, summary, change_set_type, resumed=resumed)

    def _resume(
        self, stack: dict[str, Any], existing: dict[str, Any], deadline: Deadline
    ) -> DeployStart:
        """Carry on with a change set an earlier call created."""
        status = stack["StackStatus"]
        change_set_type = "CREATE" if status == "REVIEW_IN_PROGRESS" else "UPDATE"
        if existing.get("ExecutionStatus") in EXECUTED:
            return DeployStart(
                stack_id=stack["StackId"],
                change_set_id=existing["ChangeSetId"],
                change_set_type=executed_type(status),
                executed=True,
                resumed=True,
            )
        summary = existing
        if existing.get("Status") in PENDING:
            summary = self._wait_change_set(stack["StackName"], existing["ChangeSetId"], deadline)
        return self._finish(
            stack["StackName"], stack["StackId"], summary, change_set_type, resumed=True
        )

    def _finish(
        self,
        name: str,
        stack_id: str,
        summary: dict[str, Any],
        change_set_type: str,
        *,
        resumed: bool,
    ) -> DeployStart:
        """Execute a computed change set, or report why it cannot be."""
        change_set_id = str(summary["ChangeSetId"])
        status, reason = summary.get("Status"), summary.get("StatusReason")
        if status == "FAILED":
            if is_no_changes(reason):
                return DeployStart(
                    stack_id=stack_id,
                    change_set_id=change_set_id,
                    change_set_type=change_set_type,
                    executed=False,
                    no_changes=True,
                    resumed=resumed,
                )
            raise StackDeploymentFailed(
                f"CloudFormation refused the change set for stack {name!r}: {reason or 'FAILED'}",
                hint=TEMPLATE_HINT,
            )
        if summary.get("ExecutionStatus") in EXECUTED:
            return DeployStart(
                stack_id=stack_id,
                change_set_id=change_set_id,
                change_set_type=change_set_type,
                executed=True,
                resumed=True,
            )
        if summary.get("ExecutionStatus") != "AVAILABLE":
            # UNAVAILABLE: the stack is busy; OBSOLETE: it changed since (the retry remakes it)
            raise TransientCloudError(
                f"the change set for stack {name!r} cannot be executed now: it is {status}, "
                f"{summary.get('ExecutionStatus')}" + (f" ({reason})" if reason else ""),
                hint="another operation changed or is changing the stack; deploy again later",
            )
        already = self._execute(name, change_set_id)
        return DeployStart(
            stack_id=stack_id,
            change_set_id=change_set_id,
            change_set_type=change_set_type,
            executed=True,
            resumed=resumed or already,
        )

    def _find_change_set(self, stack_id: str, change_set_name: str) -> dict[str, Any] | None:
        """The newest change set ``change_set_name`` of this very stack, or None."""
        matches: list[dict[str, Any]] = [
            summary
            for summary in self._stacks.pages(
                "ListChangeSets", "list_change_sets", "Summaries", StackName=stack_id
            )
            # moto lists the change sets of every stack in the region
            if summary.get("ChangeSetName") == change_set_name
            and summary.get("StackId") == stack_id
        ]
        if not matches:
            return None
        return max(matches, key=lambda s: timestamp(s.get("CreationTime")))

    def _create_change_set(
        self,
        *,
        name: str,
        stack: dict[str, Any] | None,
        change_set_type: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        change_set_name: str,
    ) -> tuple[str, str, bool] | None:
        """(change set id, stack id, resumed); None when refused for having no changes."""
        with translate("cloudformation:CreateChangeSet"):
            try:
                response = self._stacks.client.create_change_set(
                    StackName=name,
                    ChangeSetName=change_set_name,
                    ChangeSetType=change_set_type,
                    TemplateBody=template_body,
                    Parameters=parameter_list(parameters),
                    Tags=tag_list(tags),
                    Capabilities=CAPABILITIES,
                    ClientToken=change_set_name,
                )
            except ClientError as exc:
                code, message = error_code(exc), error_message(exc)
                if code == "ValidationError" and is_no_changes(message):
                    return None
                if code == "AlreadyExistsException" and stack is not None:
                    # made by a call whose response was lost: carry on with it
                    existing = self._find_change_set(stack["StackId"], change_set_name)
                    if existing is not None:
                        return str(existing["ChangeSetId"]), str(stack["StackId"]), True
                if code == "ValidationError" and "_IN_PROGRESS state" in message:
                    raise TransientCloudError(
                        f"stack {name!r} is busy: {message}",
                        hint="another operation is running on it; deploy again later",
                    ) from exc
                if code in ("ValidationError", "InsufficientCapabilitiesException"):
                    raise StackDeploymentFailed(
                        f"CloudFormation rejected stack {name!r}: {message}", hint=TEMPLATE_HINT
                    ) from exc
                if code == "AlreadyExistsException":
                    raise ConflictError(
                        f"cannot create change set {change_set_name!r} for stack {name!r}: "
                        f"{message}",
                        hint="another deployment is creating this stack; deploy again later",
                    ) from exc
                raise
        return str(response["Id"]), str(response["StackId"]), False

    def _wait_change_set(self, name: str, change_set_id: str, deadline: Deadline) -> dict[str, Any]:
        """DescribeChangeSet (by ARN: moto resolves names across stacks) until computed."""
        while True:
            with translate("cloudformation:DescribeChangeSet"):
                described = dict(
                    self._stacks.client.describe_change_set(ChangeSetName=change_set_id)
                )
            if described.get("Status") not in PENDING:
                return described
            if deadline.passed():
                raise TransientCloudError(
                    f"the change set for stack {name!r} is still {described.get('Status')}",
                    hint="CloudFormation is slow to compute it; the next attempt resumes it",
                )
            deadline.pause()

    def _execute(self, name: str, change_set_id: str) -> bool:
        """ExecuteChangeSet; True if it had already been executed (by an earlier request)."""
        token = change_set_name_of(change_set_id) or "stockade"
        with translate("cloudformation:ExecuteChangeSet"):
            try:
                self._stacks.client.execute_change_set(
                    ChangeSetName=change_set_id, ClientRequestToken=token
                )
            except ClientError as exc:
                code, message = error_code(exc), error_message(exc)
                if code == "TokenAlreadyExistsException":
                    return True
                if code == "InvalidChangeSetStatus":
                    with translate("cloudformation:DescribeChangeSet"):
                        again = self._stacks.client.describe_change_set(ChangeSetName=change_set_id)
                    if again.get("ExecutionStatus") in EXECUTED:
                        return True
                    raise TransientCloudError(
                        f"cannot execute the change set for stack {name!r} yet: {message}",
                        hint="another operation is running on the stack; deploy again later",
                    ) from exc
                if to_stockade(exc, "cloudformation:ExecuteChangeSet").transient:
                    raise
                # on AWS: capabilities, or a stack that cannot be updated; on moto also a
                # resource that failed (the execution is synchronous there)
                raise StackDeploymentFailed(
                    f"executing the change set for stack {name!r} failed: {code}: {message}",
                    hint=TEMPLATE_HINT,
                ) from exc
        return False

    def _delete_change_set(self, change_set_id: str) -> None:
        with translate("cloudformation:DeleteChangeSet"):
            self._stacks.client.delete_change_set(ChangeSetName=change_set_id)

    def _delete_unborn(self, stack: dict[str, Any], deadline: Deadline) -> None:
        """Delete a stack that never finished its creation, and wait until it is gone."""
        stack_id = str(stack["StackId"])
        self._stacks.delete(stack_id)
        while True:
            current = self._stacks.describe(stack_id)
            if current is None or current["StackStatus"] == "DELETE_COMPLETE":
                return
            if current["StackStatus"] == "DELETE_FAILED":
                raise StackDeploymentFailed(
                    f"could not delete the failed stack {stack['StackName']!r} before "
                    f"creating it again: {current.get('StackStatusReason') or 'DELETE_FAILED'}",
                    hint="delete it in the tenant account, then deploy again",
                )
            if deadline.passed():
                raise TransientCloudError(
                    f"stack {stack['StackName']!r} is still being deleted",
                    hint="it will be retried once the deletion has finished",
                )
            deadline.pause()
