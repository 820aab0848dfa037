"""IAM realism in the sandbox: the org access role as Organizations makes it, and the credential
facts moto cannot produce on its own.

- **The org access role.** AWS Organizations creates ``OrganizationAccountAccessRole`` in every
  account it creates, trusting the management account and with ``AdministratorAccess``
  attached. moto 5.2.5 creates the role with the trust policy but attaches nothing (and loads
  no AWS managed policies unless configured to, which would cost every account ~1,300
  policies). ``provision_access_role`` completes it: the one managed policy, attached. The
  middleware calls it inside the CreateAccount request, so journal replay (which sends that
  request again) rebuilds it with the same ids. The baseline's ``LockAccessRole`` puts an
  inline deny-all policy on this role.
- **Credential facts** (``POST /_stockade/iam/credentials``): moto dates every access key
  ``now`` (and a restart replays it with the replay's ``now``), records a key's last use only
  when a request is signed with it, and never reports root access keys
  (``AccountAccessKeysPresent`` is always 0; there is no API to create them). The endpoint sets,
  in one account, access keys' creation and last-use dates and whether the root user has access
  keys, as AWS would report them. It is a mutating request, so the journal keeps it and a
  restart replays it. Body::

      {"account_id": "123456789012",
       "access_keys": [{"access_key_id": "AKIA...", "created": "2024-01-31T00:00:00Z",
                        "last_used": "2025-06-01T12:00:00Z", "last_used_service": "s3"}],
       "root_access_keys": true}

  ``last_used`` null makes a key never used; keys, dates and the root flag are each optional.

Who calls it: ``cloud.sandbox.app`` (the endpoint, and ``provision_access_role`` through
``cloud.sandbox.organizations``), in the sandbox server process only (it imports moto).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.iam.models import AccessKeyLastUsed, AWSManagedPolicy, iam_backends

from stockade.cloud.sandbox.wire import Reply, json_reply

__all__ = ["CREDENTIALS_PATH", "IamRealism", "IamRealismError", "provision_access_role"]

CREDENTIALS_PATH = "/_stockade/iam/credentials"
ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMINISTRATOR_ACCESS = "AdministratorAccess"
#: AWS's AdministratorAccess, as moto's copy of AWS's managed policies has it
_ADMINISTRATOR_ACCESS_DATA: dict[str, Any] = {
    "CreateDate": "2015-02-06T18:39:46+00:00",
    "UpdateDate": "2015-02-06T18:39:46+00:00",
    "DefaultVersionId": "v1",
    "Path": "/",
    "Document": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
}
_PARTITION = "global"
_IAM_REGION = "us-east-1"


class IamRealismError(ValueError):
    """A credential-facts request that cannot be applied (bad body, unknown key)."""


def _backend(account_id: str) -> Any:
    return iam_backends[account_id][_PARTITION]


def provision_access_role(account_id: str, management_account_id: str) -> None:
    """Make ``OrganizationAccountAccessRole`` in ``account_id`` what AWS Organizations makes:
    trusting the management account, with ``AdministratorAccess`` attached. Idempotent."""
    iam = _backend(account_id)
    if ORG_ACCESS_ROLE not in {role.name for role in iam.roles.values()}:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{management_account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(
            role_name=ORG_ACCESS_ROLE,
            assume_role_policy_document=json.dumps(trust),
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration="3600",
        )
    policy = AWSManagedPolicy.from_data(
        ADMINISTRATOR_ACCESS, account_id, _IAM_REGION, _ADMINISTRATOR_ACCESS_DATA
    )
    existing = iam.managed_policies.get(policy.arn)
    if existing is None:
        iam.managed_policies[policy.arn] = policy
        existing = policy
    if existing.arn not in iam.get_role(ORG_ACCESS_ROLE).managed_policies:
        iam.attach_role_policy(existing.arn, ORG_ACCESS_ROLE)


def _when(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time as moto keeps times (naive UTC); None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise IamRealismError(f"{field} must be an ISO 8601 time or null")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise IamRealismError(f"{field}: {exc}") from None
    aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _KeyFacts:
    key_id: str
    created: datetime | None
    #: False: leave the last use as it is; True: set it to ``last_used`` (None: never used)
    set_last_used: bool
    last_used: datetime | None
    service: str
    region: str

    @classmethod
    def parse(cls, data: Any) -> _KeyFacts:
        if not isinstance(data, dict) or not isinstance(data.get("access_key_id"), str):
            raise IamRealismError("each access key needs an access_key_id")
        return cls(
            key_id=data["access_key_id"],
            created=_when(data.get("created"), "created"),
            set_last_used="last_used" in data,
            last_used=_when(data.get("last_used"), "last_used"),
            service=str(data.get("last_used_service") or "iam"),
            region=str(data.get("last_used_region") or _IAM_REGION),
        )


class IamRealism:
    """Applies credential facts to moto's IAM backends (under the server's request lock)."""

    def handle(self, body: bytes) -> Reply:
        try:
            self.apply(json.loads(body or b"null"))
        except (ValueError, IamRealismError) as exc:
            return json_reply(
                400, {"error": str(exc)}, request_id="-", content_type="application/json"
            )
        return json_reply(200, {"ok": True}, request_id="-", content_type="application/json")

    def apply(self, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("account_id"), str):
            raise IamRealismError("expected a JSON object with an account_id")
        keys = [_KeyFacts.parse(item) for item in data.get("access_keys") or []]
        root = data.get("root_access_keys")
        if root is not None and not isinstance(root, bool):
            raise IamRealismError("root_access_keys must be true, false or null")
        iam = _backend(data["account_id"])
        # check every key before changing any: a bad request changes nothing
        found = {}
        for facts in keys:
            key = iam.access_keys.get(facts.key_id)
            if key is None:
                raise IamRealismError(
                    f"no access key {facts.key_id} in account {data['account_id']}"
                )
            found[facts.key_id] = key
        for facts in keys:
            key = found[facts.key_id]
            if facts.created is not None:
                key.create_date = facts.created
            if facts.set_last_used:
                key.last_used = (
                    None
                    if facts.last_used is None
                    else AccessKeyLastUsed(facts.last_used, facts.service, facts.region)
                )
        if root is not None:
            iam.account_summary._account_access_keys_present = int(root)
