"""The JSON of ``POST /api/v1/policy/explain``: the request to evaluate, and the decision.

Who calls it: ``stockade.api.policy_routes``; the CLI reads the same JSON (``cli.policy``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stockade.engine.explain import DEFAULT_PRINCIPAL, ExplainOutcome, ExplainRequest

ContextValue = str | int | float | bool | list[str]


class ExplainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(description="the tenant id")
    action: str = Field(description="service:Action, e.g. organizations:LeaveOrganization")
    resource: str = Field(default="*", description="an ARN; {account} is the tenant's account")
    principal: str = Field(
        default=DEFAULT_PRINCIPAL, description="an IAM role or user ARN; {account} as above"
    )
    context: dict[str, ContextValue] = Field(
        default_factory=dict, description="condition keys, e.g. aws:RequestedRegion"
    )
    identity_policies: list[dict[str, Any]] = Field(
        default_factory=list,
        description="policy documents of the principal; none: an administrator (Allow * on *)",
    )

    def to_request(self) -> ExplainRequest:
        return ExplainRequest(
            tenant_id=self.tenant,
            action=self.action,
            resource=self.resource,
            principal=self.principal,
            context=dict(self.context),
            identity_policies=tuple(json.dumps(p) for p in self.identity_policies),
        )


class ExplanationOut(BaseModel):
    policy_type: str
    policy_name: str | None = Field(description="the SCP's name, for SCP statements")
    level: int | None = Field(description="SCP level: 0 the root, then each OU, last the account")
    target: str | None = Field(description="where that SCP level is: root, ou:PATH, account:ID")
    statement_index: int | None
    sid: str | None
    effect: str | None
    reason: str


class ScpLevelOut(BaseModel):
    target: str
    policies: list[str]


class ExplainOut(BaseModel):
    tenant: str
    account_id: str
    principal: str
    action: str
    resource: str
    decision: str = Field(description="allow, explicit_deny or implicit_deny")
    explanation: list[ExplanationOut]
    scp_chain: list[ScpLevelOut]

    @classmethod
    def of(cls, outcome: ExplainOutcome) -> ExplainOut:
        chain = outcome.chain
        return cls(
            tenant=outcome.tenant_id,
            account_id=outcome.account_id,
            principal=outcome.principal,
            action=outcome.action,
            resource=outcome.resource,
            decision=outcome.decision.kind.value,
            explanation=[
                ExplanationOut(
                    policy_type=e.policy_type.value,
                    policy_name=outcome.policy_name(e),
                    level=e.level,
                    target=str(chain[e.level].target)
                    if e.level is not None and e.policy_type.value == "scp"
                    else None,
                    statement_index=e.statement_index,
                    sid=e.sid,
                    effect=e.effect.value if e.effect else None,
                    reason=e.reason,
                )
                for e in outcome.decision.explanation
            ],
            scp_chain=[
                ScpLevelOut(target=str(level.target), policies=[p.name for p in level.policies])
                for level in chain
            ],
        )
