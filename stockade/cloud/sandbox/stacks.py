"""Stack operations that take time, and the log of stack operations: the sandbox's bookkeeping.

moto finishes every CloudFormation stack operation inside the request that starts it; AWS takes
seconds to minutes, and meanwhile shows the stack ``CREATE_IN_PROGRESS``, ``UPDATE_IN_PROGRESS``
or ``DELETE_IN_PROGRESS`` and refuses other operations on it. ``StackWindows`` keeps, per stack,
the window during which its last operation is still in progress (from the request's recorded
time, for ``duration`` wall-clock seconds), and which stack each change set belongs to.
``OperationLog`` keeps every successful state-changing CloudFormation request, so tests can
count what Stockade did.

Pure bookkeeping: no WSGI, no moto, no XML and no clock of its own (callers pass the request's
recorded time: the wall clock live, the journal's time during replay, so a restarted sandbox
rebuilds the same windows). Every lookup is O(1), through dicts keyed by stack id and by
(account, region, stack name); windows are dropped in the order they end, so memory holds only
the stacks still in progress.

Who calls it: ``cloud.sandbox.cloudformation`` inside the sandbox server process, under the
server's request lock. ``cloud.sandbox.process`` reads ``StackOperation`` back from the log.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"


def is_arn(name_or_id: str) -> bool:
    return name_or_id.startswith("arn:")


def name_in_arn(arn: str) -> str:
    """The stack (or change set) name inside ``arn:...:stack/NAME/UUID``; the text otherwise."""
    if not is_arn(arn):
        return arn
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) > 2 else resource


@dataclass(frozen=True, slots=True)
class StackOperation:
    """One successful state-changing CloudFormation request, as ``/_stockade/stack-operations``
    reports it. ``seq`` is the request's journal sequence number, ``at`` its recorded time."""

    seq: int
    at: float
    account_id: str
    operation: str
    stack_name: str | None
    change_set_name: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "account_id": self.account_id,
            "operation": self.operation,
            "stack_name": self.stack_name,
            "change_set_name": self.change_set_name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackOperation:
        stack, change_set = data.get("stack_name"), data.get("change_set_name")
        return cls(
            seq=int(data["seq"]),
            at=float(data["at"]),
            account_id=str(data["account_id"]),
            operation=str(data["operation"]),
            stack_name=None if stack is None else str(stack),
            change_set_name=None if change_set is None else str(change_set),
        )


class OperationLog:
    """Every successful state-changing CloudFormation request, in order, and per account."""

    def __init__(self) -> None:
        self._all: list[StackOperation] = []
        self._by_account: dict[str, list[StackOperation]] = {}

    def record(self, operation: StackOperation) -> None:
        self._all.append(operation)
        self._by_account.setdefault(operation.account_id, []).append(operation)

    def operations(self, account_id: str | None = None) -> list[StackOperation]:
        if account_id is None:
            return list(self._all)
        return list(self._by_account.get(account_id, ()))


@dataclass(frozen=True, slots=True)
class Window:
    """A stack whose last operation is in progress until ``until`` (wall-clock seconds)."""

    account_id: str
    region: str
    stack_name: str
    stack_id: str
    #: the operation's in-progress status: CREATE_IN_PROGRESS, UPDATE_IN_PROGRESS, ...
    status: str
    until: float
    #: the change set being executed, if the operation is an ExecuteChangeSet
    change_set_id: str | None = None

    def open_at(self, now: float) -> bool:
        return now < self.until


@dataclass(frozen=True, slots=True)
class ChangeSetRef:
    """Which stack a change set belongs to, and its type (CREATE, UPDATE, IMPORT)."""

    account_id: str
    region: str
    change_set_id: str
    name: str
    stack_name: str
    stack_id: str
    kind: str


class StackWindows:
    """The stacks whose last operation is still in progress, and every change set's stack."""

    def __init__(self, *, duration: float) -> None:
        #: how long an operation stays in progress, in wall-clock seconds (already time-scaled)
        self.duration = duration
        self._by_id: dict[str, Window] = {}
        self._by_scope: dict[tuple[str, str], dict[str, Window]] = {}
        self._ending: deque[Window] = deque()
        self._change_sets: dict[str, ChangeSetRef] = {}
        self._change_set_names: dict[tuple[str, str, str], str] = {}

    # -- windows ----------------------------------------------------------------------------

    def start(
        self,
        *,
        account_id: str,
        region: str,
        stack_name: str,
        stack_id: str,
        status: str,
        now: float,
        change_set_id: str | None = None,
    ) -> None:
        """The stack's operation started at ``now``; it replaces any earlier window."""
        if self.duration <= 0:
            return
        window = Window(
            account_id, region, stack_name, stack_id, status, now + self.duration, change_set_id
        )
        self._by_id[stack_id] = window
        self._by_scope.setdefault((account_id, region), {})[stack_name] = window
        self._ending.append(window)

    def expire(self, now: float) -> None:
        """Forget the windows that have ended (amortised O(1) per window)."""
        while self._ending and not self._ending[0].open_at(now):
            window = self._ending.popleft()
            if self._by_id.get(window.stack_id) is window:
                del self._by_id[window.stack_id]
            scope = self._by_scope.get((window.account_id, window.region))
            if scope is not None and scope.get(window.stack_name) is window:
                del scope[window.stack_name]
                if not scope:
                    del self._by_scope[(window.account_id, window.region)]

    def for_stack(self, account_id: str, region: str, name_or_id: str, now: float) -> Window | None:
        """The open window of the stack a request names (by name or by stack id)."""
        if is_arn(name_or_id):
            window = self._by_id.get(name_or_id)
            if window is not None and (window.account_id, window.region) != (account_id, region):
                return None  # moto looks for it in the caller's account and region only
        else:
            window = self._by_scope.get((account_id, region), {}).get(name_or_id)
        return window if window is not None and window.open_at(now) else None

    def open_in(self, account_id: str, region: str, now: float) -> list[Window]:
        """Every open window in one account and region (the stacks a listing must rewrite)."""
        scope = self._by_scope.get((account_id, region))
        if not scope:
            return []
        return [window for window in scope.values() if window.open_at(now)]

    # -- change sets ------------------------------------------------------------------------

    def add_change_set(self, ref: ChangeSetRef) -> None:
        self._change_sets[ref.change_set_id] = ref
        self._change_set_names[(ref.account_id, ref.region, ref.name)] = ref.change_set_id

    def change_set(self, account_id: str, region: str, name_or_id: str) -> ChangeSetRef | None:
        """The change set a request names: by ARN, else the last one of that name (as moto)."""
        if not is_arn(name_or_id):
            found = self._change_set_names.get((account_id, region, name_or_id))
            if found is None:
                return None
            name_or_id = found
        ref = self._change_sets.get(name_or_id)
        if ref is None or (ref.account_id, ref.region) != (account_id, region):
            return None
        return ref

    def drop_change_set(self, ref: ChangeSetRef) -> None:
        self._change_sets.pop(ref.change_set_id, None)
        key = (ref.account_id, ref.region, ref.name)
        if self._change_set_names.get(key) == ref.change_set_id:
            del self._change_set_names[key]

    def executing(self, ref: ChangeSetRef, now: float) -> bool:
        """Whether ``ref`` is the change set whose execution is in progress on its stack."""
        window = self._by_id.get(ref.stack_id)
        if window is None or not window.open_at(now):
            return False
        return window.change_set_id == ref.change_set_id
