"""The JSON of the access routes: asking for credentials, the credentials, break-glass requests
and ``~/.aws/config`` profiles.

Credentials appear in exactly one document, ``AccessOut`` (the answer to
``POST /api/v1/tenants/{tenant_id}/access``, sent with ``Cache-Control: no-store``); no other
document, error or log line carries a secret access key or a session token.

Who calls it: ``stockade.api.access_routes``; the CLI reads the same JSON (``cli.access``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stockade.domain.access import AccessLevel, AccessRequest, RequestState
from stockade.engine.access import AccessProfiles, IssuedAccess

_DURATION_DOC = (
    "session length in seconds, 900..3600 (STS caps chained role sessions at one hour); "
    "default 3600, for break-glass the approved duration"
)


class AccessIn(BaseModel):
    """Body of ``POST /api/v1/tenants/{tenant_id}/access``."""

    model_config = ConfigDict(extra="forbid")

    role: AccessLevel = Field(description="readonly, operator, or breakglass (approved only)")
    reason: str = Field(description="why: recorded in the audit trail, tagged on the session")
    duration_seconds: int | None = Field(default=None, description=_DURATION_DOC)
    request_id: str | None = Field(
        default=None, max_length=64, description="the approved break-glass request"
    )


class CredentialsOut(BaseModel):
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime


class AccessOut(BaseModel):
    """Credentials just issued: the only document that carries them."""

    tenant: str
    account_id: str
    role: AccessLevel
    role_name: str
    assumed_role_arn: str
    session_name: str
    expiration: datetime
    request_id: str | None
    credentials: CredentialsOut

    @classmethod
    def of(cls, issued: IssuedAccess) -> AccessOut:
        creds = issued.credentials
        return cls(
            tenant=issued.tenant_id,
            account_id=issued.account_id,
            role=issued.level,
            role_name=issued.role_name,
            assumed_role_arn=creds.assumed_role_arn,
            session_name=issued.session_name,
            expiration=creds.expiration,
            request_id=issued.request_id,
            credentials=CredentialsOut(
                access_key_id=creds.access_key_id,
                secret_access_key=creds.secret_access_key,
                session_token=creds.session_token,
                expiration=creds.expiration,
            ),
        )


class ProfileOut(BaseModel):
    tenant: str
    account_id: str
    role: AccessLevel
    profile: str = Field(description="the ~/.aws/config profile name")


class ProfilesOut(BaseModel):
    region: str = Field(description="the fleet's home region")
    items: list[ProfileOut]
    count: int

    @classmethod
    def of(cls, profiles: AccessProfiles) -> ProfilesOut:
        items = [
            ProfileOut(tenant=p.tenant_id, account_id=p.account_id, role=p.level, profile=p.name)
            for p in profiles.items
        ]
        return cls(region=profiles.region, items=items, count=len(items))


class AccessRequestIn(BaseModel):
    """Body of ``POST /api/v1/access/requests`` (break-glass)."""

    model_config = ConfigDict(extra="forbid")

    tenant: str
    reason: str = Field(description="why: recorded in the audit trail, shown to approvers")
    duration_seconds: int | None = Field(default=None, description=_DURATION_DOC)


class DenyIn(BaseModel):
    """Body of ``POST /api/v1/access/requests/{request_id}/deny``."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="why not: recorded, shown to the requester")


class AccessRequestOut(BaseModel):
    id: str
    tenant: str
    role: AccessLevel
    requester: str
    reason: str
    duration_seconds: int
    state: RequestState
    created_at: datetime
    expires_at: datetime = Field(
        description="pending: the approval deadline; approved: the end of the window to use it"
    )
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    used_at: datetime | None

    @classmethod
    def of(cls, request: AccessRequest) -> AccessRequestOut:
        return cls(
            id=request.request_id,
            tenant=request.tenant_id,
            role=request.level,
            requester=request.requester,
            reason=request.reason,
            duration_seconds=request.duration_seconds,
            state=request.state,
            created_at=request.created_at,
            expires_at=request.expires_at,
            decided_by=request.decided_by,
            decided_at=request.decided_at,
            decision_reason=request.decision_reason,
            used_at=request.used_at,
        )


class AccessRequestList(BaseModel):
    items: list[AccessRequestOut]
    count: int

    @classmethod
    def of(cls, requests: list[AccessRequest]) -> AccessRequestList:
        return cls(items=[AccessRequestOut.of(r) for r in requests], count=len(requests))
