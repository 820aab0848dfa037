"""AWS Organizations realism on the wire: asynchronous CreateAccount and injected failures.

moto creates an account the moment CreateAccount is called. AWS answers ``IN_PROGRESS`` and
finishes minutes later, sometimes with ``FAILED``; until then the account is not listed. This
module intercepts the Organizations calls that show creations (CreateAccount,
DescribeCreateAccountStatus, ListCreateAccountStatus, ListAccounts, ListAccountsForParent,
DescribeAccount) and answers them the way AWS would at the request's wall-clock time.

A CreateAccount whose account name matches an injected fault never reaches moto (AWS creates no
account either): it gets its own ``car-`` request id and ends ``FAILED`` with the fault's reason.
One that reaches moto gets, in the new account, what Organizations puts there
(``on_account_created``: the sandbox gives ``OrganizationAccountAccessRole`` its
``AdministratorAccess``, see ``cloud.sandbox.iam``), within the same request, so journal replay
rebuilds it too.

Who calls it: ``cloud.sandbox.app`` (the server's middleware), under its request lock, with
moto's random already reseeded for mutating requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stockade.cloud.sandbox.creations import AccountCreations
from stockade.cloud.sandbox.wire import Reply, aws_json_error, json_reply

TARGET_PREFIX = "AWSOrganizationsV20161128."

#: ListCreateAccountStatus returns at most this many statuses per page (AWS's MaxResults cap)
MAX_PAGE = 20

#: forward(operation, body) sends the request on to moto, as that operation, and buffers the reply
Forward = Callable[[str, bytes], Reply]


class OrganizationsRealism:
    """Rewrites the Organizations operations that expose account creations."""

    HANDLED = frozenset(
        {
            "CreateAccount",
            "DescribeCreateAccountStatus",
            "ListCreateAccountStatus",
            "ListAccounts",
            "ListAccountsForParent",
            "DescribeAccount",
        }
    )

    def __init__(
        self,
        creations: AccountCreations,
        *,
        new_request_id: Callable[[], str],
        new_creation_id: Callable[[], str],
        on_account_created: Callable[[str, str], None] = lambda _account, _owner: None,
    ) -> None:
        """``on_account_created(account_id, management_account_id)`` runs once moto has
        created an account."""
        self._creations = creations
        self._on_account_created = on_account_created
        self._new_request_id = new_request_id
        self._new_creation_id = new_creation_id

    @classmethod
    def operation_of(cls, target: str | None) -> str | None:
        """The operation this module handles for an ``X-Amz-Target`` value, else None."""
        if not target or not target.startswith(TARGET_PREFIX):
            return None
        operation = target[len(TARGET_PREFIX) :]
        return operation if operation in cls.HANDLED else None

    def handle(
        self, operation: str, body: bytes, *, caller: str, now: float, forward: Forward
    ) -> Reply:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return forward(operation, body)  # let moto answer malformed input its own way
        if not isinstance(params, dict):
            return forward(operation, body)
        if operation == "CreateAccount":
            return self._create_account(params, body, caller=caller, now=now, forward=forward)
        if operation == "DescribeCreateAccountStatus":
            return self._describe_status(params, caller=caller, now=now)
        if operation == "ListCreateAccountStatus":
            return self._list_statuses(params, caller=caller, now=now)
        if operation == "DescribeAccount":
            account_id = str(params.get("AccountId", ""))
            if self._creations.account_in_progress(account_id, now):
                return self._error(
                    "AccountNotFoundException", "You specified an account that doesn't exist."
                )
            return forward(operation, body)
        # ListAccounts, ListAccountsForParent: hide accounts still being created
        reply = forward(operation, body)
        if reply.status != 200:
            return reply
        data = reply.json()
        data["Accounts"] = [
            account
            for account in data.get("Accounts", [])
            if not self._creations.account_in_progress(str(account.get("Id")), now)
        ]
        return reply.with_json(data)

    def _create_account(
        self, params: dict[str, Any], body: bytes, *, caller: str, now: float, forward: Forward
    ) -> Reply:
        name = params.get("AccountName")
        fault = self._creations.fault_for(name) if isinstance(name, str) else None
        reason = fault.use() if fault is not None else None
        email = params.get("Email")
        if reason is None and isinstance(email, str) and not self._creations.claim_email(email):
            reason = "EMAIL_ALREADY_EXISTS"  # as AWS answers, asynchronously, for a used e-mail
        if reason is not None and isinstance(name, str):
            # AWS refuses CreateAccount outright outside an organization: keep that error
            check = forward("DescribeOrganization", b"{}")
            if check.status != 200:
                return check
            creation = self._creations.record(
                request_id=self._new_creation_id(),
                owner=caller,
                account_name=name,
                requested_at=now,
                account_id=None,
                failure_reason=reason,
            )
            return json_reply(
                200,
                {"CreateAccountStatus": creation.status(now)},
                request_id=self._new_request_id(),
            )
        reply = forward("CreateAccount", body)
        if reply.status != 200:
            if isinstance(email, str):
                self._creations.release_email(email)
            return reply
        status = reply.json().get("CreateAccountStatus", {})
        if status.get("AccountId"):
            self._on_account_created(str(status["AccountId"]), caller)
        creation = self._creations.record(
            request_id=str(status["Id"]),
            owner=caller,
            account_name=str(status.get("AccountName", name)),
            requested_at=now,
            account_id=status.get("AccountId"),
        )
        return reply.with_json({"CreateAccountStatus": creation.status(now)})

    def _describe_status(self, params: dict[str, Any], *, caller: str, now: float) -> Reply:
        creation = self._creations.get(str(params.get("CreateAccountRequestId", "")))
        if creation is None or creation.owner != caller:
            return self._error(
                "CreateAccountStatusNotFoundException",
                "We can't find a create account request with the CreateAccountRequestId "
                "that you specified.",
            )
        return json_reply(
            200, {"CreateAccountStatus": creation.status(now)}, request_id=self._new_request_id()
        )

    def _list_statuses(self, params: dict[str, Any], *, caller: str, now: float) -> Reply:
        states = params.get("States") or []
        if not isinstance(states, list):
            return self._error("InvalidInputException", "States must be a list.")
        try:
            size = min(int(params.get("MaxResults") or MAX_PAGE), MAX_PAGE)
            offset = int(params.get("NextToken") or 0)
        except ValueError:
            return self._error("InvalidInputException", "The NextToken or MaxResults is invalid.")
        if size < 1 or offset < 0:
            return self._error("InvalidInputException", "The NextToken or MaxResults is invalid.")
        statuses = self._creations.statuses(owner=caller, now=now, states=map(str, states))
        data: dict[str, Any] = {"CreateAccountStatuses": statuses[offset : offset + size]}
        if offset + size < len(statuses):
            data["NextToken"] = str(offset + size)
        return json_reply(200, data, request_id=self._new_request_id())

    def _error(self, code: str, message: str) -> Reply:
        return aws_json_error(400, code, message, request_id=self._new_request_id())
