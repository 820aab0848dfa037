"""A fixed organization for the policy routes: the SCP chain every tenant account has.

Root and account: FullAWSAccess; the Tenants OU also denies leaving the organization.
``explainer(tenants)`` is the real ``PolicyExplainer`` over this chain and the in-memory tenants.
"""

from __future__ import annotations

import json

from api.fakes import InMemoryTenants
from stockade.cloud.ports import ScpDocument, ScpLevel
from stockade.domain.guardrails import ScpTarget, TargetKind
from stockade.engine.explain import PolicyExplainer
from stockade.policy.guardrails import FULL_AWS_ACCESS

DENY_LEAVE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoLeaving",
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
            }
        ],
    }
)


def tenant_chain(account_id: str) -> tuple[ScpLevel, ...]:
    full = ScpDocument("p-FullAWSAccess", "FullAWSAccess", FULL_AWS_ACCESS)
    return (
        ScpLevel(ScpTarget(TargetKind.ROOT), (full,)),
        ScpLevel(
            ScpTarget(TargetKind.OU, "Tenants"),
            (full, ScpDocument("p-denyleave", "deny-leave", DENY_LEAVE)),
        ),
        ScpLevel(ScpTarget(TargetKind.ACCOUNT, account_id), (full,)),
    )


def explainer(tenants: InMemoryTenants) -> PolicyExplainer:
    return PolicyExplainer(tenant=tenants.get_tenant, scp_chain=tenant_chain)
