"""AWS IAM adapter for credential scans: the long-lived credentials of one tenant account.

``IamCredentials.inventory`` reads, through the scan role (``AwsCloud.credentials``), every IAM
user (``ListUsers``), each user's access keys (``ListAccessKeys``) and, for the active ones,
when and with which service each was last used (``GetAccessKeyLastUsed``), whether the user
has a console password (``GetLoginProfile``; ``NoSuchEntity`` means none) and, only for users
who do, their MFA devices (``ListMFADevices``); then whether the root user has access keys
(``GetAccountSummary``'s ``AccountAccessKeysPresent``; an account whose summary the role may
not read reports None rather than failing the account). Lists are paginated (``Marker``).
Every AWS error is translated once, here (``cloud.aws.errors.translate``).

Calls per account: 2 + users x 2 + active keys + console users (about 6 for an account with
two users and one key).

Who calls it: the engine's credential scan (``engine.scan``), through
``cloud.ports.CredentialsPort`` built by ``AwsCloud.credentials``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from stockade.cloud.aws.errors import error_code, translate
from stockade.cloud.aws.permissions import requires
from stockade.domain.credentials import AccessKeyRecord, AccountCredentials, IamUserRecord
from stockade.domain.errors import CloudAccessDenied

__all__ = ["IamCredentials"]

#: what AWS answers for a user without a login profile
_NO_SUCH_ENTITY = "NoSuchEntity"
#: what GetAccessKeyLastUsed reports as the service of a key never used
_NOT_APPLICABLE = "N/A"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class IamCredentials:
    """Implements ``cloud.ports.CredentialsPort`` over one boto3 IAM client."""

    def __init__(
        self,
        client: Any,
        *,
        account_id: str,
        scope: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        """``scope``: entered around the calls (``AwsCloud`` makes the shared tenant client act
        in ``account_id`` as the scan role there)."""
        self._client = client
        self._account_id = account_id
        self._scope = scope

    @requires(
        "iam:ListUsers",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:GetLoginProfile",
        "iam:ListMFADevices",
        "iam:GetAccountSummary",
    )
    def inventory(self) -> AccountCredentials:
        with self._scope():
            users = tuple(
                self._user(user) for user in self._pages("ListUsers", "list_users", "Users")
            )
            root_keys = self._root_access_keys()
        return AccountCredentials(
            account_id=self._account_id, users=users, root_access_keys=root_keys
        )

    # -- one user ---------------------------------------------------------------------------

    def _user(self, user: dict[str, Any]) -> IamUserRecord:
        name = str(user["UserName"])
        keys = tuple(
            self._access_key(key)
            for key in self._pages(
                "ListAccessKeys", "list_access_keys", "AccessKeyMetadata", UserName=name
            )
        )
        console = self._has_login_profile(name)
        # MFA matters only for signing in to the console: skip the call for the others
        mfa = (
            sum(
                1
                for _ in self._pages(
                    "ListMFADevices", "list_mfa_devices", "MFADevices", UserName=name
                )
            )
            if console
            else 0
        )
        return IamUserRecord(
            name=name,
            arn=str(user["Arn"]),
            access_keys=keys,
            console_password=console,
            mfa_devices=mfa,
        )

    def _access_key(self, key: dict[str, Any]) -> AccessKeyRecord:
        key_id = str(key["AccessKeyId"])
        active = key.get("Status") == "Active"
        last_used_at: datetime | None = None
        service: str | None = None
        if active:  # an inactive key signs nothing: when it was used no longer matters
            with translate("iam:GetAccessKeyLastUsed"):
                used = self._client.get_access_key_last_used(AccessKeyId=key_id)
            last = used.get("AccessKeyLastUsed", {})
            if last.get("LastUsedDate") is not None:
                last_used_at = _utc(last["LastUsedDate"])
                name = str(last.get("ServiceName") or "")
                service = name if name and name != _NOT_APPLICABLE else None
        return AccessKeyRecord(
            key_id=key_id,
            active=active,
            created_at=_utc(key["CreateDate"]),
            last_used_at=last_used_at,
            last_used_service=service,
        )

    def _has_login_profile(self, user_name: str) -> bool:
        with translate("iam:GetLoginProfile"):
            try:
                self._client.get_login_profile(UserName=user_name)
            except ClientError as exc:
                if error_code(exc) == _NO_SUCH_ENTITY:
                    return False
                raise
        return True

    # -- the account ------------------------------------------------------------------------

    def _root_access_keys(self) -> bool | None:
        try:
            with translate("iam:GetAccountSummary"):
                summary = self._client.get_account_summary()["SummaryMap"]
        except CloudAccessDenied:
            return None  # not visible to this role (an SCP, an older scan role): not a failure
        return bool(summary.get("AccountAccessKeysPresent", 0))

    def _pages(
        self, operation: str, method: str, key: str, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        """Every item of an IAM list operation, page by page (``Marker``/``IsTruncated``)."""
        marker: str | None = None
        while True:
            with translate(f"iam:{operation}"):
                page = getattr(self._client, method)(
                    **kwargs, **({"Marker": marker} if marker else {})
                )
            yield from page.get(key, [])
            marker = page.get("Marker") if page.get("IsTruncated") else None
            if not marker:
                return
