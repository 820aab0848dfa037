"""AWS STS: assuming roles in tenant accounts, for Stockade itself and for people.

``assume_role`` serves both: Stockade's own access (cached by ``cloud.aws.acting``) and a
person's session (``AwsCloud.issue_session``, for ``stockade access``), which adds a source
identity and session tags. The duration is sent as asked: STS refuses what it does not allow,
and callers check their bounds before (nothing is clamped here).

Who calls it: ``cloud.aws.acting`` (Stockade's own credentials), ``cloud.aws.session``
(``AwsCloud.issue_session``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockade.cloud.aws.errors import translate
from stockade.cloud.aws.permissions import requires
from stockade.cloud.ports import IssuedCredentials


@requires("sts:AssumeRole")  # with a source identity and tags, also sts:SetSourceIdentity and
# sts:TagSession: ``AwsCloud.issue_session`` declares those for people's sessions
def assume_role(
    client: Any,
    *,
    role_arn: str,
    session_name: str,
    duration_seconds: int,
    source_identity: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> IssuedCredentials:
    """Assume ``role_arn``. CloudTrail records ``source_identity`` on every call the session
    makes (and on any role it assumes next: AWS never lets it change); ``tags`` are session
    tags, none transitive."""
    extra: dict[str, Any] = {}
    if source_identity is not None:
        extra["SourceIdentity"] = source_identity
    if tags:
        extra["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    with translate("sts:AssumeRole"):
        response = client.assume_role(
            RoleArn=role_arn,
            RoleSessionName=session_name,
            DurationSeconds=duration_seconds,
            **extra,
        )
    creds = response["Credentials"]
    return IssuedCredentials(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expiration=creds["Expiration"],
        assumed_role_arn=response["AssumedRoleUser"]["Arn"],
    )
