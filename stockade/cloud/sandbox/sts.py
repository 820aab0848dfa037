"""STS realism on the wire: the AssumeRole checks AWS makes and moto does not.

moto's AssumeRole accepts any duration, any session name up to 64 characters, and ignores
``SourceIdentity`` and session tags. This module refuses, as AWS does (HTTP 400
``ValidationError``, AWS's wording), before moto sees the request (so moto's state and the
journal stay untouched):

- ``DurationSeconds`` outside 900..43,200; over 3,600 when the caller signs with temporary
  credentials (``ASIA...``: a role chain, capped at one hour); over the role's
  ``MaxSessionDuration`` when the role exists in the sandbox's IAM;
- a ``RoleSessionName`` or ``SourceIdentity`` outside ``[\\w+=,.@-]{2,64}`` (a source identity
  starting with ``aws:`` too);
- more than 50 session tags, keys of 1..128 and values of 0..256 characters from AWS's set
  (letters, digits, spaces, ``_ . : / = + - @``), and keys repeated ignoring case.

What it still does not model: trust policies and their conditions (who may assume a role,
whether ``sts:TagSession`` / ``sts:SetSourceIdentity`` are allowed, a required source
identity), a role that does not exist (moto issues credentials for any role ARN), and
permissions of the session (moto enforces none). Replayed requests are never checked.

Who calls it: ``cloud.sandbox.app`` (the server's middleware), under its request lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from moto.iam import models as iam_models

from stockade.cloud.sandbox.wire import Reply, aws_query_error
from stockade.domain.quotas import STS_CHAINED_MAX_SESSION, STS_MAX_SESSION, STS_MIN_SESSION

NAMESPACE: Final = "https://sts.amazonaws.com/doc/2011-06-15/"
MAX_TAGS: Final = 50
_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_TAG_KEY = re.compile(r"[\w\s.:/=+@-]{1,128}")
_TAG_VALUE = re.compile(r"[\w\s.:/=+@-]{0,256}")
_NAME_CONSTRAINT: Final = (
    r"Member must satisfy regular expression pattern: [\w+=,.@-]* and have length between "
    "2 and 64"
)
_ROLE_ARN = re.compile(r"arn:[\w-]+:iam::(\d{12}):role/(?:[^/]+/)*([^/]+)")

#: (account id, role name) -> the role's MaxSessionDuration, None if the role is unknown
RoleMaxSession = Callable[[str, str], int | None]


def moto_role_max_session(account_id: str, role_name: str) -> int | None:
    """The role's MaxSessionDuration in the sandbox's IAM (moto's state, read directly: no
    request, nothing drawn from moto's random)."""
    backend = iam_models.iam_backends[account_id]["aws"]
    for role in backend.roles.values():
        if role.name == role_name:
            return int(role.max_session_duration or STS_CHAINED_MAX_SESSION)
    return None


def _validation(message: str, request_id: str) -> Reply:
    return aws_query_error(
        400, "ValidationError", message, namespace=NAMESPACE, request_id=request_id
    )


def _constraint(value: str, field: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


class StsRealism:
    """Refuses the AssumeRole requests AWS would refuse for their parameters."""

    def __init__(
        self,
        *,
        new_request_id: Callable[[], str],
        role_max_session: RoleMaxSession = moto_role_max_session,
    ) -> None:
        self._new_request_id = new_request_id
        self._role_max_session = role_max_session

    def check_assume_role(self, params: Mapping[str, str], *, caller_key: str) -> Reply | None:
        """AWS's refusal of an AssumeRole with these (form) parameters, or None to pass it on."""
        problem = self._names(params) or self._tags(params) or self._duration(params, caller_key)
        return _validation(problem, self._new_request_id()) if problem else None

    @staticmethod
    def _names(params: Mapping[str, str]) -> str | None:
        session = params.get("RoleSessionName", "")
        if not _NAME.fullmatch(session):
            return _constraint(session, "roleSessionName", _NAME_CONSTRAINT)
        source = params.get("SourceIdentity")
        if source is not None:
            if not _NAME.fullmatch(source):
                return _constraint(source, "sourceIdentity", _NAME_CONSTRAINT)
            if source.lower().startswith("aws:"):
                return "SourceIdentity cannot start with the prefix 'aws:'"
        return None

    @staticmethod
    def _tags(params: Mapping[str, str]) -> str | None:
        keys: set[str] = set()
        index = 1
        while f"Tags.member.{index}.Key" in params:
            key = params[f"Tags.member.{index}.Key"]
            value = params.get(f"Tags.member.{index}.Value", "")
            if not _TAG_KEY.fullmatch(key):
                return _constraint(key, f"tags.{index}.member.key", "invalid tag key")
            if not _TAG_VALUE.fullmatch(value):
                return _constraint(value, f"tags.{index}.member.value", "invalid tag value")
            if key.lower() in keys:
                return "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            keys.add(key.lower())
            index += 1
        if len(keys) > MAX_TAGS:
            return _constraint(
                f"[{len(keys)} tags]", "tags", f"Member must have length <= {MAX_TAGS}"
            )
        return None

    def _duration(self, params: Mapping[str, str], caller_key: str) -> str | None:
        text = params.get("DurationSeconds")
        if text is None:
            return None
        try:
            seconds = int(text)
        except ValueError:
            return _constraint(text, "durationSeconds", "Member must be an integer")
        if not STS_MIN_SESSION <= seconds <= STS_MAX_SESSION:
            return _constraint(
                text,
                "durationSeconds",
                f"Member must have value between {STS_MIN_SESSION} and {STS_MAX_SESSION}",
            )
        if caller_key.startswith("ASIA") and seconds > STS_CHAINED_MAX_SESSION:
            return (
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining."
            )
        match = _ROLE_ARN.fullmatch(params.get("RoleArn", ""))
        maximum = self._role_max_session(*match.groups()) if match else None
        if maximum is not None and seconds > maximum:
            return "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        return None
