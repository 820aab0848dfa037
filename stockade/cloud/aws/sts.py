"""AWS STS: assuming roles in tenant accounts, for Stockade itself and for people.

``assume_role`` is Stockade's own access (cached by ``cloud.aws.acting``); ``assume_role_for``
issues a person's session (``stockade access``) with a source identity and session tags, for
exactly the duration asked (STS refuses what it does not allow; nothing is clamped).

Who calls it: ``cloud.aws.acting`` (Stockade's own credentials), ``cloud.aws.session``
(``AwsCloud.issue_session``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stockade.cloud.aws.errors import translate
from stockade.cloud.aws.permissions import requires
from stockade.cloud.ports import IssuedCredentials
from stockade.domain.quotas import STS_CHAINED_MAX_SESSION, STS_MIN_SESSION


@dataclass(frozen=True)
class AssumedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    #: POSIX seconds
    expires_at: float

    def __repr__(self) -> str:  # never print secrets
        return f"AssumedCredentials(access_key_id={self.access_key_id!r}, expires_at=...)"


@requires("sts:AssumeRole")
def assume_role(
    client: Any,
    *,
    role_arn: str,
    session_name: str,
    duration_seconds: int = STS_CHAINED_MAX_SESSION,
) -> AssumedCredentials:
    """Assume ``role_arn``; the duration is clamped to STS's bounds for a chained role."""
    duration = max(STS_MIN_SESSION, min(duration_seconds, STS_CHAINED_MAX_SESSION))
    with translate("sts:AssumeRole"):
        response = client.assume_role(
            RoleArn=role_arn, RoleSessionName=session_name[:64], DurationSeconds=duration
        )
    creds = response["Credentials"]
    return AssumedCredentials(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expires_at=creds["Expiration"].timestamp(),
    )


@requires("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")
def assume_role_for(
    client: Any,
    *,
    role_arn: str,
    session_name: str,
    source_identity: str,
    tags: Mapping[str, str],
    duration_seconds: int,
) -> IssuedCredentials:
    """Assume ``role_arn`` for a person: CloudTrail records ``source_identity`` on every call
    the session makes (and on any role it assumes next: AWS never lets it change); ``tags``
    are session tags, none transitive."""
    with translate("sts:AssumeRole"):
        response = client.assume_role(
            RoleArn=role_arn,
            RoleSessionName=session_name,
            SourceIdentity=source_identity,
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
            DurationSeconds=duration_seconds,
        )
    creds = response["Credentials"]
    return IssuedCredentials(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expiration=creds["Expiration"],
        assumed_role_arn=response["AssumedRoleUser"]["Arn"],
    )
