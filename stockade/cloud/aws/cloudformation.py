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

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Concatenate, ParamSpec, TypeVar

from botocore.exceptions import ClientError

from stockade.cloud.aws.cloudformation_changesets import ChangeSetDeployer
from stockade.cloud.aws.cloudformation_common import (
    CAPABILITIES,
    SUCCEEDED_STATES,
    Deadline,
    StackClient,
    parameter_list,
    stack_info,
    tag_list,
)
from stockade.cloud.aws.cloudformation_templates import TEMPLATE_HINT
from stockade.cloud.aws.errors import error_code, translate
from stockade.cloud.aws.permissions import requires
from stockade.cloud.ports import DeployStart, StackInfo, StackResource
from stockade.domain.errors import (
    ConflictError,
    StackDeploymentFailed,
)

_R = TypeVar("_R")
_P = ParamSpec("_P")


def _scoped(
    method: Callable[Concatenate[CloudFormationStacks, _P], _R],
) -> Callable[Concatenate[CloudFormationStacks, _P], _R]:
    """Run the method inside the instance's ``scope`` (the account it acts in)."""

    def run(self: CloudFormationStacks, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._scope():
            return method(self, *args, **kwargs)

    run.__name__, run.__doc__ = method.__name__, method.__doc__
    return run


class CloudFormationStacks:
    """Implements ``cloud.ports.StacksPort`` over one boto3 CloudFormation client."""

    def __init__(
        self,
        client: Any,
        *,
        scope: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        """``scope``: entered around every call (``AwsCloud`` makes the shared tenant client
        act in this stack's account there)."""
        self._client = client
        self._scope = scope
        self._stacks = StackClient(client)
        self._change_sets = ChangeSetDeployer(self._stacks)

    # -- reading --------------------------------------------------------------------------

    @requires("cloudformation:DescribeStacks")
    @_scoped
    def get_stack(self, *, name: str) -> StackInfo | None:
        stack = self._stacks.describe(name)
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            return None
        return stack_info(stack)

    @requires("cloudformation:DescribeStacks")
    @_scoped
    def list_managed_stacks(
        self, *, tag_key: str | None = "stockade:tenant", name_prefix: str = ""
    ) -> list[StackInfo]:
        # DescribeStacks without a name pages through every live stack with its tags,
        # parameters and outputs: one call per page, where ListStacks would need one
        # DescribeStacks per stack on top
        found: list[StackInfo] = []
        for stack in self._stacks.pages("DescribeStacks", "describe_stacks", "Stacks"):
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            if not str(stack["StackName"]).startswith(name_prefix):
                continue
            if tag_key is not None and not any(t["Key"] == tag_key for t in stack.get("Tags", [])):
                continue
            found.append(stack_info(stack))
        return found

    @requires("cloudformation:ListStackResources")
    @_scoped
    def list_stack_resources(self, *, name: str) -> list[StackResource]:
        return [
            StackResource(
                logical_id=r["LogicalResourceId"],
                resource_type=r["ResourceType"],
                status=r["ResourceStatus"],
                physical_id=r.get("PhysicalResourceId"),
            )
            for r in self._stacks.pages(
                "ListStackResources",
                "list_stack_resources",
                "StackResourceSummaries",
                StackName=name,
            )
        ]

    # -- plain stack operations -----------------------------------------------------------

    @requires("cloudformation:CreateStack")
    @_scoped
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
                    Parameters=parameter_list(parameters),
                    Tags=tag_list(tags),
                    Capabilities=CAPABILITIES,
                )
            except ClientError as exc:
                if error_code(exc) == "AlreadyExistsException":
                    raise ConflictError(f"stack {name!r} already exists") from exc
                raise
        return str(response["StackId"])

    @requires("cloudformation:DeleteStack")
    @_scoped
    def delete_stack(self, *, name: str) -> None:
        self._stacks.delete(name)

    # -- deploying through change sets ----------------------------------------------------

    @requires(
        "cloudformation:DescribeStacks",
        "cloudformation:ListChangeSets",
        "cloudformation:CreateChangeSet",
        "cloudformation:DescribeChangeSet",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:DeleteChangeSet",
        "cloudformation:DeleteStack",
    )
    @_scoped
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
        return self._change_sets.deploy(
            name=name,
            template_body=template_body,
            parameters=parameters,
            tags=tags,
            change_set_name=change_set_name,
            deadline=Deadline(timeout, poll_interval, sleep, clock),
        )

    # -- waiting --------------------------------------------------------------------------

    @requires("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents")
    @_scoped
    def wait_stack(
        self,
        *,
        name: str,
        timeout: float,
        poll_interval: float = 5.0,
        backoff: float = 1.0,
        max_poll_interval: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> StackInfo:
        deadline = Deadline(
            timeout,
            poll_interval,
            sleep,
            clock,
            backoff=backoff,
            max_interval=max_poll_interval,
        )
        while True:
            stack = self._stacks.describe(name)
            if stack is None:
                raise StackDeploymentFailed(
                    f"stack {name!r} does not exist",
                    hint="it was deleted while deploying; deploy again",
                )
            info = stack_info(stack)
            if info.status in SUCCEEDED_STATES:
                return info
            if not info.in_progress:
                raise StackDeploymentFailed(self._stacks.failure_message(info), hint=TEMPLATE_HINT)
            if deadline.passed():
                raise StackDeploymentFailed(
                    f"stack {info.name!r} still {info.status} after {timeout:.0f} s",
                    hint="a resource never finished (the sandbox never finishes some); check "
                    "the template, then deploy again",
                )
            deadline.pause()
