"""AWS CloudFormation adapter: stacks in one account and region, deployed through change sets.

Who calls it: the engine, through ``cloud.ports.StacksPort`` (built by ``AwsCloud.stacks``).

Deploying (``deploy_stack``) is idempotent for one change set name, which the caller derives
from (release, attempt), so a step that re-runs after a crash never starts a stack operation
twice:

1. ``DescribeStacks`` by name (a ``DELETE_IN_PROGRESS`` stack is waited out). For an existing
   stack, our change set is looked up (``ListChangeSets``, matched on stack id and name). If it
   has been executed (its ``ExecutionStatus``, or the stack's ``ChangeSetId`` once CloudFormation
   has deleted it after the execution), the call reports that and executes nothing. If it
   exists unexecuted, it is reused: waited for, then executed (an ``OBSOLETE`` one is remade).
2. Without our change set: a stack that never finished its creation (``REVIEW_IN_PROGRESS``,
   ``ROLLBACK_COMPLETE``, ``CREATE_FAILED``) holds nothing deployed, so it is deleted and the
   deployment becomes a create; a stack that needs repair (``*_ROLLBACK_FAILED``,
   ``DELETE_FAILED``) is a permanent failure; one busy with another operation a transient one.
3. ``CreateChangeSet`` (``CREATE`` for a new stack, ``UPDATE`` otherwise), then
   ``DescribeChangeSet`` until it is ``CREATE_COMPLETE`` (executed next) or ``FAILED``: "didn't
   contain changes" is success (``no_changes``), anything else a permanent failure with
   CloudFormation's reason.
4. ``ExecuteChangeSet`` with the change set's name as ``ClientRequestToken`` (``ClientToken`` on
   the create), so AWS itself recognises a re-sent request.

Before any call the template is parsed locally: a body that is not a JSON or YAML mapping, a
parameter the template does not declare, or a parameter without a value and without a default
fails at once (AWS rejects all three at ``CreateChangeSet``). Parameters left out take their
template default, sent explicitly: the same stack on AWS, and it lets moto detect "no changes".

moto 5.2.5 differs from AWS here; the adapter is written for AWS and copes with the list
below. The embedded sandbox patches the worst of it (``cloud.sandbox.moto_patches``): there,
"no changes" is judged against the stack's current template, parameters and tags and is always
a ``FAILED`` change set, and executing a change set applies its parameters, tags and outputs
and sets ``ChangeSetId``. Plain moto (in-process tests) behaves as listed:

- ``CreateChangeSet`` is synchronous: the change set is ``CREATE_COMPLETE``/``AVAILABLE`` (or
  ``FAILED``) at once, never ``CREATE_PENDING``/``CREATE_IN_PROGRESS``.
- "No changes": when the template text and moto's typed parameter values are unchanged, moto
  rejects ``CreateChangeSet`` with ``ValidationError: No updates are to be performed.`` (so
  ``DeployStart.change_set_id`` is None) instead of a ``FAILED`` change set. Otherwise it marks
  the change set ``FAILED`` "didn't contain changes" when the parsed template and the
  parameters the stack was *created* with (executing a change set never updates those) match.
  So after an update, going back to the creation's parameters is "no changes" in the sandbox
  (AWS updates the stack), a ``Number``/``List`` parameter can make an unchanged deployment
  execute an update that changes nothing, and tags are never compared.
- A second change set with an existing name is created beside the first (AWS answers
  ``AlreadyExistsException``), and ``DescribeChangeSet`` by name ignores ``StackName`` (the
  last change set of that name in the region wins). Hence the lookup by ``ListChangeSets`` and
  stack id before creating, and every later call by change set ARN.
- ``ListChangeSets`` ignores ``StackName`` and returns every change set in the region; the
  adapter filters on stack id.
- ``ExecuteChangeSet`` is synchronous: the stack is ``CREATE_COMPLETE``/``UPDATE_COMPLETE``
  when it returns, and the change set ``EXECUTE_COMPLETE`` (never ``EXECUTE_IN_PROGRESS``).
  Executed change sets, and the other change sets of the stack, are kept (AWS deletes them);
  the stack has no ``ChangeSetId``.
- A resource that fails (an IAM policy for a missing role) fails ``ExecuteChangeSet`` itself
  with a 4xx error, leaving the stack ``REVIEW_IN_PROGRESS`` and the change set ``AVAILABLE``;
  on AWS the execution starts and the stack rolls back. The adapter reports it as
  ``StackDeploymentFailed`` with moto's message.
- ``CREATE`` on a stack in ``REVIEW_IN_PROGRESS`` makes a second stack of the same name (AWS
  adds a change set to the existing stack): the adapter deletes such a stack first.
- Executing a change set neither applies its tags to an existing stack (``UPDATE`` keeps the
  tags of the create) nor produces outputs (``Outputs`` stays empty): read versions from
  ``StackInfo.parameters`` when the sandbox must agree with AWS. Parameters are updated.
- A parameter-only ``UPDATE`` (same template) updates the stack's parameters but not its
  resources; ``AllowedPattern`` is not enforced; unsupported resource types are skipped.
- A malformed template body is an HTTP 500 (and leaves a ``REVIEW_IN_PROGRESS`` stack); the
  local parse stops it before it is sent. A ``!Ref`` to nothing passes ``CreateChangeSet`` and
  fails ``ExecuteChangeSet`` with a 500 (AWS: ``ValidationError`` at create); cfn-lint, which
  runs before every rollout, catches it.
- ``DescribeChangeSet`` for a missing change set is ``ValidationError`` (AWS:
  ``ChangeSetNotFound``), and a ``FAILED`` change set can be executed.
- A stack created with ``CreateStack`` whose resource fails stays ``CREATE_IN_PROGRESS``
  forever: ``wait_stack`` times out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import yaml
from botocore.exceptions import ClientError

from stockade.cloud.aws.errors import error_code, to_stockade, translate
from stockade.cloud.ports import DeployStart, StackInfo, StackResource
from stockade.domain.errors import (
    CloudError,
    ConflictError,
    StackDeploymentFailed,
    TransientCloudError,
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
TEMPLATE_HINT = "fix the template or its parameters (cfn-lint), then deploy again"


def _timestamp(value: Any) -> float:
    return float(value.timestamp()) if value is not None else 0.0


def _is_missing(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationError" and "does not exist" in str(exc)


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")) or error_code(exc)


def _is_no_changes(text: str | None) -> bool:
    return bool(text) and any(marker in str(text) for marker in NO_CHANGES)


def _change_set_name_of(change_set_id: str | None) -> str | None:
    """The name inside a change set ARN (``...:changeSet/NAME/UUID``)."""
    if not change_set_id or ":changeSet/" not in change_set_id:
        return None
    return change_set_id.split(":changeSet/", 1)[1].split("/", 1)[0]


def _executed_type(status: str) -> str:
    """Whether the change set that brought a stack to ``status`` created it or updated it."""
    return "CREATE" if status.startswith(("REVIEW", "CREATE", "ROLLBACK")) else "UPDATE"


def _stack_info(stack: dict[str, Any]) -> StackInfo:
    return StackInfo(
        name=stack["StackName"],
        stack_id=stack["StackId"],
        status=stack["StackStatus"],
        reason=stack.get("StackStatusReason"),
        tags=tuple((t["Key"], t["Value"]) for t in stack.get("Tags", [])),
        changed_at=_timestamp(stack.get("LastUpdatedTime") or stack.get("CreationTime")),
        parameters=tuple(
            (p["ParameterKey"], str(p.get("ParameterValue", "")))
            for p in stack.get("Parameters", [])
        ),
        outputs=tuple(
            (o["OutputKey"], str(o.get("OutputValue", ""))) for o in stack.get("Outputs", [])
        ),
    )


# -- the template, read locally ---------------------------------------------------------------


class _TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML with CloudFormation's short-form intrinsics (``!Ref``, ``!Sub`` ...) as plain data."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    if isinstance(node, yaml.MappingNode):
        return {suffix: loader.construct_mapping(node, deep=True)}
    return None  # pragma: no cover - every node is one of the three


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def _parameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_parameter_text(v) for v in value)
    return str(value)


@lru_cache(maxsize=64)
def _declared_parameters(template_body: str) -> tuple[tuple[str, str | None], ...]:
    """The template's parameters with their defaults (None: no default), in order.

    Raises ``StackDeploymentFailed`` when the body is not a JSON or YAML mapping. Cached: a
    rollout sends one template to thousands of accounts.
    """
    try:
        if template_body.lstrip().startswith("{"):
            document = json.loads(template_body)
        else:
            document = yaml.load(template_body, Loader=_TemplateLoader)  # noqa: S506 - safe
    except (ValueError, yaml.YAMLError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StackDeploymentFailed(
            f"the template is neither valid JSON nor valid YAML: {first_line}", hint=TEMPLATE_HINT
        ) from exc
    if not isinstance(document, dict):
        raise StackDeploymentFailed(
            "the template is not a JSON or YAML mapping", hint=TEMPLATE_HINT
        )
    slots = document.get("Parameters") or {}
    if not isinstance(slots, dict):
        raise StackDeploymentFailed(
            "the template's Parameters are not a mapping", hint=TEMPLATE_HINT
        )
    declared: list[tuple[str, str | None]] = []
    for key, slot in slots.items():
        default = slot.get("Default") if isinstance(slot, dict) else None
        declared.append((str(key), None if default is None else _parameter_text(default)))
    return tuple(declared)


def resolve_parameters(template_body: str, parameters: dict[str, str]) -> dict[str, str]:
    """Every parameter the stack gets: the given ones, then the template's defaults.

    Raises ``StackDeploymentFailed`` (as AWS would at ``CreateChangeSet``) for a parameter the
    template does not declare or a declared one with neither a value nor a default.
    """
    declared = _declared_parameters(template_body)
    names = {name for name, _ in declared}
    unknown = sorted(set(parameters) - names)
    if unknown:
        raise StackDeploymentFailed(
            f"parameters {unknown} are not declared in the template", hint=TEMPLATE_HINT
        )
    resolved: dict[str, str] = {}
    missing: list[str] = []
    for name, default in declared:
        if name in parameters:
            resolved[name] = parameters[name]
        elif default is not None:
            resolved[name] = default
        else:
            missing.append(name)
    if missing:
        raise StackDeploymentFailed(
            f"parameters {missing} have no value and no default in the template",
            hint=TEMPLATE_HINT,
        )
    return resolved


# -- the adapter ------------------------------------------------------------------------------


class _Deadline:
    """Polling within a time limit, on the caller's clock and sleep."""

    def __init__(
        self,
        timeout: float,
        poll_interval: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._interval = poll_interval
        self._at = clock() + timeout

    def passed(self) -> bool:
        return self._clock() >= self._at

    def pause(self) -> None:
        self._sleep(max(0.0, min(self._interval, self._at - self._clock())))


class CloudFormationStacks:
    """Implements ``cloud.ports.StacksPort`` over one boto3 CloudFormation client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    # -- reading --------------------------------------------------------------------------

    def _describe(self, name_or_id: str) -> dict[str, Any] | None:
        """The stack as DescribeStacks returns it; None if there is none (or it is deleted
        and was asked for by name)."""
        with translate("cloudformation:DescribeStacks"):
            try:
                stacks = self._client.describe_stacks(StackName=name_or_id)["Stacks"]
            except ClientError as exc:
                if _is_missing(exc):
                    return None
                raise
        return dict(stacks[0]) if stacks else None

    def _pages(self, operation: str, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
        token: str | None = None
        while True:
            with translate(f"cloudformation:{operation}"):
                page = getattr(self._client, method)(
                    **kwargs, **({"NextToken": token} if token else {})
                )
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return

    def get_stack(self, *, name: str) -> StackInfo | None:
        stack = self._describe(name)
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            return None
        return _stack_info(stack)

    def list_managed_stacks(
        self, *, tag_key: str | None = "stockade:tenant", name_prefix: str = ""
    ) -> list[StackInfo]:
        # DescribeStacks without a name pages through every live stack with its tags,
        # parameters and outputs: one call per page, where ListStacks would need one
        # DescribeStacks per stack on top
        found: list[StackInfo] = []
        for stack in self._pages("DescribeStacks", "describe_stacks", "Stacks"):
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            if not str(stack["StackName"]).startswith(name_prefix):
                continue
            if tag_key is not None and not any(t["Key"] == tag_key for t in stack.get("Tags", [])):
                continue
            found.append(_stack_info(stack))
        return found

    def list_stack_resources(self, *, name: str) -> list[StackResource]:
        return [
            StackResource(
                logical_id=r["LogicalResourceId"],
                resource_type=r["ResourceType"],
                status=r["ResourceStatus"],
                physical_id=r.get("PhysicalResourceId"),
            )
            for r in self._pages(
                "ListStackResources",
                "list_stack_resources",
                "StackResourceSummaries",
                StackName=name,
            )
        ]

    # -- plain stack operations -----------------------------------------------------------

    def create_stack(
        self,
        *,
        name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
    ) -> str:
        with translate("cloudformation:CreateStack"):
            try:
                response = self._client.create_stack(
                    StackName=name,
                    TemplateBody=template_body,
                    Parameters=_parameter_list(parameters),
                    Tags=_tag_list(tags),
                    Capabilities=CAPABILITIES,
                )
            except ClientError as exc:
                if error_code(exc) == "AlreadyExistsException":
                    raise ConflictError(f"stack {name!r} already exists") from exc
                raise
        return str(response["StackId"])

    def delete_stack(self, *, name: str) -> None:
        with translate("cloudformation:DeleteStack"):
            self._client.delete_stack(StackName=name)

    # -- deploying through change sets ----------------------------------------------------

    def deploy_stack(
        self,
        *,
        name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        change_set_name: str,
        timeout: float = 900.0,
        poll_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> DeployStart:
        resolved = resolve_parameters(template_body, parameters)
        deadline = _Deadline(timeout, poll_interval, sleep, clock)

        stack = self._describe(name)
        while stack is not None and stack["StackStatus"] == "DELETE_IN_PROGRESS":
            if deadline.passed():
                raise TransientCloudError(
                    f"stack {name!r} is still being deleted after {timeout:.0f} s",
                    hint="it will be retried once the deletion has finished",
                )
            deadline.pause()
            stack = self._describe(stack["StackId"])
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
                _change_set_name_of(stack.get("ChangeSetId")) == change_set_name
            ):
                # executed, and CloudFormation has since deleted the change set itself
                return DeployStart(
                    stack_id=stack["StackId"],
                    change_set_id=stack.get("ChangeSetId"),
                    change_set_type=_executed_type(status),
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
        self, stack: dict[str, Any], existing: dict[str, Any], deadline: _Deadline
    ) -> DeployStart:
        """Carry on with a change set an earlier call created."""
        status = stack["StackStatus"]
        change_set_type = "CREATE" if status == "REVIEW_IN_PROGRESS" else "UPDATE"
        if existing.get("ExecutionStatus") in EXECUTED:
            return DeployStart(
                stack_id=stack["StackId"],
                change_set_id=existing["ChangeSetId"],
                change_set_type=_executed_type(status),
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
            if _is_no_changes(reason):
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
            for summary in self._pages(
                "ListChangeSets", "list_change_sets", "Summaries", StackName=stack_id
            )
            # moto lists the change sets of every stack in the region
            if summary.get("ChangeSetName") == change_set_name
            and summary.get("StackId") == stack_id
        ]
        if not matches:
            return None
        return max(matches, key=lambda s: _timestamp(s.get("CreationTime")))

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
                response = self._client.create_change_set(
                    StackName=name,
                    ChangeSetName=change_set_name,
                    ChangeSetType=change_set_type,
                    TemplateBody=template_body,
                    Parameters=_parameter_list(parameters),
                    Tags=_tag_list(tags),
                    Capabilities=CAPABILITIES,
                    ClientToken=change_set_name,
                )
            except ClientError as exc:
                code, message = error_code(exc), _message(exc)
                if code == "ValidationError" and _is_no_changes(message):
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

    def _wait_change_set(
        self, name: str, change_set_id: str, deadline: _Deadline
    ) -> dict[str, Any]:
        """DescribeChangeSet (by ARN: moto resolves names across stacks) until computed."""
        while True:
            with translate("cloudformation:DescribeChangeSet"):
                described = dict(self._client.describe_change_set(ChangeSetName=change_set_id))
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
        token = _change_set_name_of(change_set_id) or "stockade"
        with translate("cloudformation:ExecuteChangeSet"):
            try:
                self._client.execute_change_set(
                    ChangeSetName=change_set_id, ClientRequestToken=token
                )
            except ClientError as exc:
                code, message = error_code(exc), _message(exc)
                if code == "TokenAlreadyExistsException":
                    return True
                if code == "InvalidChangeSetStatus":
                    with translate("cloudformation:DescribeChangeSet"):
                        again = self._client.describe_change_set(ChangeSetName=change_set_id)
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
            self._client.delete_change_set(ChangeSetName=change_set_id)

    def _delete_unborn(self, stack: dict[str, Any], deadline: _Deadline) -> None:
        """Delete a stack that never finished its creation, and wait until it is gone."""
        stack_id = str(stack["StackId"])
        self.delete_stack(name=stack_id)
        while True:
            current = self._describe(stack_id)
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

    # -- waiting --------------------------------------------------------------------------

    def wait_stack(
        self,
        *,
        name: str,
        timeout: float,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> StackInfo:
        deadline = _Deadline(timeout, poll_interval, sleep, clock)
        while True:
            stack = self._describe(name)
            if stack is None:
                raise StackDeploymentFailed(
                    f"stack {name!r} does not exist",
                    hint="it was deleted while deploying; deploy again",
                )
            info = _stack_info(stack)
            if info.status in SUCCEEDED_STATES:
                return info
            if not info.in_progress:
                raise StackDeploymentFailed(self._failure_message(info), hint=TEMPLATE_HINT)
            if deadline.passed():
                raise StackDeploymentFailed(
                    f"stack {info.name!r} still {info.status} after {timeout:.0f} s",
                    hint="a resource never finished (the sandbox never finishes some); check "
                    "the template, then deploy again",
                )
            deadline.pause()

    def _failure_message(self, info: StackInfo) -> str:
        text = f"stack {info.name!r} ended {info.status}"
        if info.reason:
            text += f": {info.reason}"
        cause = self._first_failure(info)
        if cause:
            text += f"; first failure: {cause}"
        return text

    def _first_failure(self, info: StackInfo) -> str | None:
        """The earliest failed resource of the stack's last operation, from its events."""
        try:
            with translate("cloudformation:DescribeStackEvents"):
                events = self._client.describe_stack_events(StackName=info.stack_id)
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


def _parameter_list(parameters: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]
