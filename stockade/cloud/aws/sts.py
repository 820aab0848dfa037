"""AWS STS: assuming roles in tenant accounts.

Who calls it: ``cloud.aws.session`` (clients for tenant accounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stockade.cloud.aws.errors import translate
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
