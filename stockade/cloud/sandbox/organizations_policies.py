"""AWS Organizations policy realism on the wire: the SCP rules moto does not enforce.

moto stores policies and attachments but checks none of AWS's rules about them. This module
intercepts the policy calls and refuses, as AWS does (HTTP 400, AWS's error codes), what AWS
would refuse, before moto sees the request (so moto's state and the journal stay untouched):

- ``CreatePolicy``/``UpdatePolicy`` of an SCP whose content is longer than
  ``OrganizationLimits.scp_max_chars`` (every character counts, as AWS counts):
  ``ConstraintViolationException``, reason ``POLICY_CONTENT_LIMIT_EXCEEDED``; content that is
  not a JSON object: ``MalformedPolicyDocumentException`` (AWS also checks the policy grammar;
  the sandbox only checks the JSON).
- ``AttachPolicy`` of a policy already attached to the target:
  ``DuplicatePolicyAttachmentException`` (moto succeeds silently); of an SCP while SCPs are not
  enabled in the root: ``PolicyTypeNotEnabledException``; of an SCP to a target that already has
  ``scp_max_per_target`` SCPs (AWS's ``FullAWSAccess`` included):
  ``ConstraintViolationException``, reason ``MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED``.
- ``DetachPolicy`` of a policy not attached to the target: ``PolicyNotAttachedException`` (moto
  succeeds silently); of a target's last SCP (AWS: every root, OU and account keeps at least
  one): ``ConstraintViolationException``, reason ``MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED``.
- ``AttachPolicy``, ``DetachPolicy``, ``ListPoliciesForTarget`` on a root, OU or account that does
  not exist: ``TargetNotFoundException``, the code AWS documents (moto answers
  ``OrganizationalUnitNotFoundException`` or ``AccountNotFoundException``).

The checks read moto's state through its public API (``DescribePolicy``, ``ListRoots``,
``ListPoliciesForTarget``) with moto's random left as it was, so the ids of the request that
follows never depend on them. Replayed requests are never refused (they succeeded when they
were live) and pass straight through.

Who calls it: ``cloud.sandbox.app`` (the server's middleware), under its request lock, with
moto's random already reseeded for mutating requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.moto_api._internal import mock_random

from stockade.cloud.sandbox.organizations import TARGET_PREFIX
from stockade.cloud.sandbox.wire import Reply, aws_json_error, json_reply
from stockade.domain.quotas import OrganizationLimits

SCP = "SERVICE_CONTROL_POLICY"
#: what moto answers for a missing OU or account where AWS answers TargetNotFoundException
_MOTO_TARGET_MISSING = frozenset(
    {"OrganizationalUnitNotFoundException", "AccountNotFoundException", "TargetNotFoundException"}
)

#: forward(operation, body) sends the request on to moto, as that operation, and buffers the reply
Forward = Callable[[str, bytes], Reply]


class PolicyRealism:
    """Refuses the policy operations AWS would refuse; maps moto's target errors to AWS's."""

    HANDLED = frozenset({"CreatePolicy", "UpdatePolicy", "AttachPolicy", "DetachPolicy"})
    #: reads whose errors are rewritten (never refused otherwise)
    READS = frozenset({"ListPoliciesForTarget"})

    def __init__(
        self, *, new_request_id: Callable[[], str], limits: OrganizationLimits | None = None
    ) -> None:
        self._new_request_id = new_request_id
        self._limits = limits or OrganizationLimits()

    @classmethod
    def operation_of(cls, target: str | None) -> str | None:
        """The operation this module handles for an ``X-Amz-Target`` value, else None."""
        if not target or not target.startswith(TARGET_PREFIX):
            return None
        operation = target[len(TARGET_PREFIX) :]
        return operation if operation in cls.HANDLED | cls.READS else None

    def handle(self, operation: str, body: bytes, *, forward: Forward, replaying: bool) -> Reply:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = None
        if replaying or not isinstance(params, dict):
            return forward(operation, body)  # moto answers malformed input its own way
        refusal: Reply | None = None
        if operation == "CreatePolicy":
            refusal = self._check_content(params, str(params.get("Type", "")))
        elif operation == "UpdatePolicy" and "Content" in params:
            summary = self._summary(str(params.get("PolicyId", "")), forward)
            if summary is not None:
                refusal = self._check_content(params, str(summary.get("Type", "")))
        elif operation in ("AttachPolicy", "DetachPolicy"):
            refusal = self._check_attachment(operation, params, forward)
        if refusal is not None:
            return refusal
        reply = forward(operation, body)
        if operation in ("AttachPolicy", "DetachPolicy", "ListPoliciesForTarget"):
            return self._target_error(reply)
        return reply

    # -- checks ----------------------------------------------------------------------------

    def _check_content(self, params: dict[str, Any], policy_type: str) -> Reply | None:
        content = params.get("Content")
        if policy_type != SCP or not isinstance(content, str):
            return None
        limit = self._limits.scp_max_chars
        if len(content) > limit:
            return self._constraint(
                "POLICY_CONTENT_LIMIT_EXCEEDED",
                f"The provided policy document exceeds the maximum size of {limit} characters "
                f"(it has {len(content)}).",
            )
        try:
            document = json.loads(content)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return self._error(
                "MalformedPolicyDocumentException",
                "The provided policy document does not meet the requirements of the specified "
                "policy type.",
            )
        return None

    def _check_attachment(
        self, operation: str, params: dict[str, Any], forward: Forward
    ) -> Reply | None:
        summary = self._summary(str(params.get("PolicyId", "")), forward)
        if summary is None:
            return None  # moto answers PolicyNotFoundException / InvalidInputException
        policy_type = str(summary.get("Type", ""))
        target_id = str(params.get("TargetId", ""))
        attached = self._attached(target_id, policy_type, forward)
        if isinstance(attached, Reply):
            return self._target_error(attached)
        policy_id = str(summary.get("Id", ""))
        if operation == "AttachPolicy":
            if policy_id in attached:
                return self._error(
                    "DuplicatePolicyAttachmentException",
                    "The selected policy is already attached to the specified target.",
                )
            if policy_type != SCP:
                return None
            if not self._enabled_in_root(policy_type, forward):
                return self._error(
                    "PolicyTypeNotEnabledException",
                    "The specified policy type isn't currently enabled in this root. You can't "
                    "attach policies of the specified type to entities in a root until you "
                    "enable that type in the root.",
                )
            limit = self._limits.scp_max_per_target
            if len(attached) >= limit:
                return self._constraint(
                    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    f"You attempted to exceed the number of policies of a certain type that can "
                    f"be attached to an entity at one time ({limit} {policy_type} per target).",
                )
            return None
        if policy_id not in attached:
            return self._error(
                "PolicyNotAttachedException",
                "The policy isn't attached to the specified target in the specified root.",
            )
        if policy_type == SCP and len(attached) <= 1:
            return self._constraint(
                "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                "You attempted to detach a policy from an entity that would cause the entity "
                "to have fewer than the minimum number of policies of a certain type required.",
            )
        return None

    # -- reads of moto's state, leaving its random untouched ---------------------------------

    def _summary(self, policy_id: str, forward: Forward) -> dict[str, Any] | None:
        reply = _look(forward, "DescribePolicy", {"PolicyId": policy_id})
        if reply.status != 200:
            return None
        summary = reply.json().get("Policy", {}).get("PolicySummary")
        return summary if isinstance(summary, dict) else None

    def _attached(self, target_id: str, policy_type: str, forward: Forward) -> list[str] | Reply:
        """The ids of the policies of ``policy_type`` attached to the target, or moto's error."""
        ids: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"TargetId": target_id, "Filter": policy_type}
            if token:
                params["NextToken"] = token
            reply = _look(forward, "ListPoliciesForTarget", params)
            if reply.status != 200:
                return reply
            data = reply.json()
            ids.extend(str(p.get("Id")) for p in data.get("Policies", []))
            token = data.get("NextToken")
            if not token:
                return ids

    def _enabled_in_root(self, policy_type: str, forward: Forward) -> bool:
        reply = _look(forward, "ListRoots", {})
        if reply.status != 200:
            return True  # let moto answer whatever is wrong
        return any(
            t.get("Type") == policy_type and t.get("Status") == "ENABLED"
            for root in reply.json().get("Roots", [])
            for t in root.get("PolicyTypes", [])
        )

    # -- replies ---------------------------------------------------------------------------

    def _target_error(self, reply: Reply) -> Reply:
        """moto's reply, with a missing OU or account reported as AWS reports it."""
        if reply.status == 200:
            return reply
        try:
            code = str(reply.json().get("__type", ""))
        except ValueError:
            return reply
        if code not in _MOTO_TARGET_MISSING:
            return reply
        return self._error(
            "TargetNotFoundException",
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
        )

    def _error(self, code: str, message: str) -> Reply:
        return aws_json_error(400, code, message, request_id=self._new_request_id())

    def _constraint(self, reason: str, message: str) -> Reply:
        return json_reply(
            400,
            {"__type": "ConstraintViolationException", "Message": message, "Reason": reason},
            request_id=self._new_request_id(),
        )


def _look(forward: Forward, operation: str, params: dict[str, Any]) -> Reply:
    """A read sent to moto that leaves moto's random as it was."""
    state = mock_random.getstate()
    try:
        return forward(operation, json.dumps(params).encode("utf-8"))
    finally:
        mock_random.setstate(state)
