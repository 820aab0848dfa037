"""AWS CloudFormation realism on the wire: stack operations that take time, and their log.

moto finishes CreateStack, UpdateStack, ExecuteChangeSet and DeleteStack inside the request.
AWS answers at once but works for seconds to minutes; meanwhile the stack is
``CREATE_IN_PROGRESS``/``UPDATE_IN_PROGRESS``/``DELETE_IN_PROGRESS`` and other operations on it
are refused. With a stack duration set, this module makes the sandbox answer as AWS does until
the operation's window (``stacks.StackWindows``) has passed, at each request's recorded time:

- Reads: ``DescribeStacks`` (by name, by stack id, and the listing), ``ListStacks`` (its
  ``StackStatusFilter`` applied to the statuses shown), and ``DescribeStackEvents`` (the events
  after the operation's own in-progress event are held back) show the in-progress status and no
  ``Outputs``. A deleted stack stays visible by name as ``DELETE_IN_PROGRESS`` (moto forgets its
  name at once: every read by name is sent on by stack id), then is gone. The change set being
  executed shows ``ExecutionStatus`` ``EXECUTE_IN_PROGRESS`` (``DescribeChangeSet``,
  ``ListChangeSets``).
- Refusals, as AWS words them (HTTP 400): ``UpdateStack`` and ``CreateChangeSet`` get
  ``ValidationError`` "Stack:<arn> is in <STATUS> state and can not be updated.";
  ``ExecuteChangeSet`` gets ``InvalidChangeSetStatus`` (the API reference: "the stack status
  might be UPDATE_IN_PROGRESS"), worded as AWS words it for the change set being executed
  ("... cannot be executed in its current execution status of [EXECUTE_IN_PROGRESS]") and
  naming the stack's state for another one (AWS documents that case, not its wording);
  ``DeleteStack`` during an update gets ``ValidationError``
  "Stack [<arn>] cannot be deleted while in status UPDATE_IN_PROGRESS", while during a create it
  is accepted (AWS cancels the creation and deletes) and during a deletion it is a no-op;
  ``CreateStack`` of a name still being deleted gets ``AlreadyExistsException``.
- Every successful state-changing request is logged (``stacks.OperationLog``), live or replayed.

Why on the wire rather than a patch to moto (``moto_patches``): the status to show depends on
the time of the *read*, and reads are never journaled, so it must not live in moto's state; a
refused request must leave moto untouched and stay out of the journal; and showing a deleted
stack by name needs nothing of moto but its public API (a read by stack id). So moto stays as
it is and no new moto internal needs verifying. Only responses about stacks in a window are
rewritten (the rest pass through as moto wrote them); a state-changing request costs a parse
of its form body and of moto's small answer (for the ids), and DeleteStack one read on the
side. Those reads (``Moto.look``) leave moto's random as it was, so the ids a journaled request
gets never depend on the windows. Requests whose parameters are not in a form body (botocore
always sends one) pass through untouched.

Replayed requests are never refused (they succeeded when they were live) but rebuild the
windows, change sets and log from their recorded times. The windows use the current settings,
so a sandbox restarted with another duration reports its journal's stacks accordingly.

Who calls it: ``cloud.sandbox.app`` (the server's middleware), under its request lock, with
moto's random already reseeded for mutating requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from wsgiref.types import WSGIEnvironment

from stockade.cloud.sandbox import cloudformation_xml as xml
from stockade.cloud.sandbox import wire
from stockade.cloud.sandbox.stacks import (
    DELETE_IN_PROGRESS,
    ChangeSetRef,
    OperationLog,
    StackOperation,
    StackWindows,
    Window,
    is_arn,
    name_in_arn,
)

VERSION = "2010-05-15"
STATE_CHANGING = frozenset(
    {
        "CreateStack",
        "UpdateStack",
        "DeleteStack",
        "CreateChangeSet",
        "ExecuteChangeSet",
        "DeleteChangeSet",
    }
)
#: the in-progress status of the operations that start without a change set
_STARTS = {"CreateStack": "CREATE_IN_PROGRESS", "UpdateStack": "UPDATE_IN_PROGRESS"}
#: a stack in one of these states can be deleted (AWS cancels a creation; a deletion is a no-op)
DELETABLE_WHILE = frozenset({"CREATE_IN_PROGRESS", DELETE_IN_PROGRESS})

#: sends a form body on to moto as the request's own, and buffers the reply
Forward = Callable[[bytes], wire.Reply]


def cloudformation_region(environ: WSGIEnvironment) -> str | None:
    """The region of a signed CloudFormation request (its SigV4 scope); None for other ones."""
    signed = wire.signature(environ)
    return signed.region if signed is not None and signed.service == "cloudformation" else None


@dataclass(frozen=True, slots=True)
class Moto:
    """How the realism reaches moto for one request: ``forward`` sends the request on (its body
    possibly rewritten), ``look`` makes a read of its own that leaves moto's random as it was,
    so the ids of a mutating request do not depend on the reads the realism makes."""

    forward: Forward
    look: Forward


@dataclass(frozen=True, slots=True)
class _Call:
    """One CloudFormation request: what, with which parameters, by whom, where and when."""

    operation: str
    params: dict[str, str]
    account_id: str
    region: str
    now: float
    moto: Moto

    def describe(self, stack_name_or_id: str) -> xml.Element | None:
        """DescribeStacks for one stack, on the side (``Moto.look``): its first stack."""
        body = {
            "Action": "DescribeStacks",
            "Version": self.params.get("Version", VERSION),
            "StackName": stack_name_or_id,
        }
        stacks = xml.members(xml.parse(self.moto.look(wire.form_body(body))), "Stacks")
        return stacks[0] if stacks else None


class CloudFormationRealism:
    """Stack windows on CloudFormation's query-protocol wire, and the operation log."""

    def __init__(
        self, windows: StackWindows, log: OperationLog, *, new_request_id: Callable[[], str]
    ) -> None:
        self._windows = windows
        self._log = log
        self._new_request_id = new_request_id

    def handle(
        self,
        operation: str,
        body: bytes,
        *,
        account_id: str,
        region: str,
        now: float,
        seq: int | None,
        replaying: bool,
        moto: Moto,
    ) -> wire.Reply:
        """Answer one CloudFormation request at time ``now``; ``seq`` is its journal number
        (None for a read), ``replaying`` whether it comes from the journal."""
        params = wire.form_params(body)
        if params.get("Action") != operation:
            return moto.forward(body)
        self._windows.expire(now)
        call = _Call(operation, params, account_id, region, now, moto)
        if operation in STATE_CHANGING:
            return self._change(call, body, seq=seq or 0, replaying=replaying)
        if operation.startswith(wire.READ_PREFIXES):
            return self._read(call, body)
        return moto.forward(body)

    # -- state-changing requests ----------------------------------------------------------

    def _change(self, call: _Call, body: bytes, *, seq: int, replaying: bool) -> wire.Reply:
        change_set = None
        if call.operation in ("ExecuteChangeSet", "DeleteChangeSet"):
            change_set = self._windows.change_set(
                call.account_id, call.region, call.params.get("ChangeSetName", "")
            )
        if not replaying:
            refusal = self._refusal(call, change_set)
            if refusal is not None:
                return refusal
        deleting = self._stack_to_delete(call) if call.operation == "DeleteStack" else None
        reply = call.moto.forward(body)
        if reply.status >= 400:
            return reply
        stack_name = self._after(call, reply, change_set, deleting)
        change_set_name = (
            change_set.name if change_set is not None else _name(call.params.get("ChangeSetName"))
        )
        self._log.record(
            StackOperation(
                seq, call.now, call.account_id, call.operation, stack_name, change_set_name
            )
        )
        return reply

    def _refusal(self, call: _Call, change_set: ChangeSetRef | None) -> wire.Reply | None:
        """AWS's error for an operation on a stack whose last operation is in progress."""
        if call.operation == "ExecuteChangeSet":
            window = (
                self._windows.for_stack(call.account_id, call.region, change_set.stack_id, call.now)
                if change_set is not None
                else None
            )
            if window is None or change_set is None:
                return None
            if window.change_set_id == change_set.change_set_id:
                message = (
                    f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                    "execution status of [EXECUTE_IN_PROGRESS]"
                )
            else:
                message = (
                    f"ChangeSet [{change_set.change_set_id}] cannot be executed: "
                    f"{_cannot_update(window)}"
                )
            return self._error("InvalidChangeSetStatus", message)
        target = call.params.get("StackName", "")
        window = self._windows.for_stack(call.account_id, call.region, target, call.now)
        if window is None:
            return None
        if call.operation == "CreateStack":
            if window.status != DELETE_IN_PROGRESS:
                return None  # moto refuses a second stack of that name itself
            return self._error("AlreadyExistsException", f"Stack [{target}] already exists")
        if call.operation == "DeleteStack":
            if window.status in DELETABLE_WHILE:
                return None
            return self._error(
                "ValidationError",
                f"Stack [{window.stack_id}] cannot be deleted while in status {window.status}",
            )
        if call.operation in ("UpdateStack", "CreateChangeSet"):
            return self._error("ValidationError", _cannot_update(window))
        return None

    def _stack_to_delete(self, call: _Call) -> tuple[str, str] | None:
        """(stack id, name) of the stack a DeleteStack will delete; None if there is none.

        Asked live and replayed alike, whatever the windows say, so replay repeats it."""
        stack = call.describe(call.params.get("StackName", ""))
        if stack is None or xml.text(stack, "StackStatus") == "DELETE_COMPLETE":
            return None
        return xml.text(stack, "StackId") or "", xml.text(stack, "StackName") or ""

    def _after(
        self,
        call: _Call,
        reply: wire.Reply,
        change_set: ChangeSetRef | None,
        deleting: tuple[str, str] | None,
    ) -> str | None:
        """Record what a successful request started; return the stack name it acted on."""
        operation, params = call.operation, call.params
        stack_name = _name(params.get("StackName"))
        if operation in _STARTS:
            stack_id = xml.result_text(reply, "StackId")
            if stack_id and stack_name:
                self._start(call, stack_name, stack_id, _STARTS[operation])
        elif operation == "CreateChangeSet":
            change_set_id = xml.result_text(reply, "Id")
            stack_id = xml.result_text(reply, "StackId")
            if change_set_id and stack_id and stack_name:
                self._windows.add_change_set(
                    ChangeSetRef(
                        account_id=call.account_id,
                        region=call.region,
                        change_set_id=change_set_id,
                        name=params.get("ChangeSetName", ""),
                        stack_name=stack_name,
                        stack_id=stack_id,
                        kind=params.get("ChangeSetType") or "CREATE",  # moto's default
                    )
                )
        elif operation == "ExecuteChangeSet" and change_set is not None:
            stack_name = change_set.stack_name
            status = f"{change_set.kind}_IN_PROGRESS"
            self._start(call, stack_name, change_set.stack_id, status, change_set.change_set_id)
        elif operation == "DeleteStack" and deleting is not None:
            stack_id, stack_name = deleting
            self._start(call, stack_name, stack_id, DELETE_IN_PROGRESS)
        elif operation == "DeleteChangeSet" and change_set is not None:
            stack_name = change_set.stack_name
            self._windows.drop_change_set(change_set)
        return stack_name

    def _start(
        self,
        call: _Call,
        stack_name: str,
        stack_id: str,
        status: str,
        change_set_id: str | None = None,
    ) -> None:
        self._windows.start(
            account_id=call.account_id,
            region=call.region,
            stack_name=stack_name,
            stack_id=stack_id,
            status=status,
            now=call.now,
            change_set_id=change_set_id,
        )

    # -- reads ------------------------------------------------------------------------------

    def _read(self, call: _Call, body: bytes) -> wire.Reply:
        operation, params = call.operation, call.params
        if operation == "DescribeStacks" and not params.get("StackName"):
            return self._describe_all(call, body)
        if operation == "ListStacks":
            return self._list_stacks(call, body)
        if operation in ("DescribeChangeSet", "ListChangeSets"):
            return self._change_sets(call, body)
        target = params.get("StackName") or ""
        window = self._windows.for_stack(call.account_id, call.region, target, call.now)
        if window is None:
            return call.moto.forward(body)
        if window.status == DELETE_IN_PROGRESS and not is_arn(target):
            # moto forgets a deleted stack's name at once; AWS finds it until deletion ends
            body = wire.form_body({**params, "StackName": window.stack_id})
        reply = call.moto.forward(body)
        root = xml.parse(reply)
        if root is None:
            return reply
        if operation == "DescribeStacks":
            xml.show_in_progress(xml.members(root, "Stacks"), {window.stack_id: window})
        elif operation == "DescribeStackEvents":
            xml.hold_back_events(root, window)
        else:
            return reply  # other reads by name: found by stack id, shown as moto has it
        return reply.with_body(xml.serialize(root))

    def _describe_all(self, call: _Call, body: bytes) -> wire.Reply:
        """DescribeStacks without a name: the account's stacks in the region, a page at a time."""
        windows = self._windows.open_in(call.account_id, call.region, call.now)
        reply = call.moto.forward(body)
        root = xml.parse(reply) if windows else None
        if root is None:
            return reply
        by_id = {window.stack_id: window for window in windows}
        seen = xml.show_in_progress(xml.members(root, "Stacks"), by_id)
        parent = xml.first(root, "Stacks")
        if parent is not None and xml.first(root, "NextToken") is None:
            # on the last page: the stacks being deleted, which moto no longer lists
            for window in windows:
                if window.status == DELETE_IN_PROGRESS and window.stack_id not in seen:
                    stack = call.describe(window.stack_id)
                    if stack is not None:
                        xml.show_in_progress([stack], by_id)
                        parent.append(stack)
        return reply.with_body(xml.serialize(root))

    def _list_stacks(self, call: _Call, body: bytes) -> wire.Reply:
        """ListStacks, its status filter applied to the statuses shown (moto keeps deleted
        stacks there, so those in a window are found)."""
        windows = self._windows.open_in(call.account_id, call.region, call.now)
        params = call.params
        if not windows:
            return call.moto.forward(body)
        wanted = {v for k, v in params.items() if k.startswith("StackStatusFilter.")}
        unfiltered = {k: v for k, v in params.items() if not k.startswith("StackStatusFilter.")}
        reply = call.moto.forward(wire.form_body(unfiltered))
        root = xml.parse(reply)
        if root is None:
            return reply
        xml.show_in_progress(
            xml.members(root, "StackSummaries"), {window.stack_id: window for window in windows}
        )
        if wanted:
            xml.drop_members(
                root, "StackSummaries", lambda m: xml.text(m, "StackStatus") not in wanted
            )
        return reply.with_body(xml.serialize(root))

    def _change_sets(self, call: _Call, body: bytes) -> wire.Reply:
        """DescribeChangeSet, ListChangeSets: the change set being executed is in progress."""
        executing = {
            window.change_set_id
            for window in self._windows.open_in(call.account_id, call.region, call.now)
            if window.change_set_id
        }
        if call.operation == "DescribeChangeSet":
            wanted = self._windows.change_set(
                call.account_id, call.region, call.params.get("ChangeSetName", "")
            )
            if wanted is None or wanted.change_set_id not in executing:
                return call.moto.forward(body)
        reply = call.moto.forward(body)
        root = xml.parse(reply) if executing else None
        if root is None:
            return reply
        status = xml.first(root, "ExecutionStatus")
        if call.operation == "DescribeChangeSet" and status is not None:
            status.text = "EXECUTE_IN_PROGRESS"
        for summary in xml.members(root, "Summaries"):
            if xml.text(summary, "ChangeSetId") in executing:
                xml.set_text(summary, "ExecutionStatus", "EXECUTE_IN_PROGRESS")
        return reply.with_body(xml.serialize(root))

    def _error(self, code: str, message: str) -> wire.Reply:
        return wire.aws_query_error(
            400, code, message, namespace=xml.NAMESPACE, request_id=self._new_request_id()
        )


def _cannot_update(window: Window) -> str:
    return f"Stack:{window.stack_id} is in {window.status} state and can not be updated."


def _name(name_or_arn: str | None) -> str | None:
    return name_in_arn(name_or_arn) if name_or_arn else None
