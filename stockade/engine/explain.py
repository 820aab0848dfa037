"""``policy explain``: would this request be allowed in tenant X, under its real SCP chain?

``PolicyExplainer.explain`` reads the SCPs that apply to the tenant's account from the
organization (``OrganizationsPort.scp_chain``: the root, every OU down to the account, the
account itself), adds the identity policies the caller gives (default: an administrator,
``Allow *`` on ``*``, so the SCPs alone decide), and evaluates the request with the local
evaluator (``policy.evaluate``). The outcome names, for each deciding statement, the SCP and the
level it is attached at.

Who calls it: the API (``POST /api/v1/policy/explain``) through ``engine.facade.PolicyOperations``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from stockade.cloud.ports import ScpLevel
from stockade.domain.errors import ConflictError, ValidationError
from stockade.domain.guardrails import TENANT_ADMIN
from stockade.domain.tenant import Tenant
from stockade.policy.guardrails import evaluate_in_account
from stockade.policy.model import Decision, Explanation, PolicyType
from stockade.policy.parse import PolicyCache

__all__ = ["ExplainOutcome", "ExplainRequest", "PolicyExplainer"]

#: a tenant administrator, the default principal (``{account}``: the tenant's account)
DEFAULT_PRINCIPAL = TENANT_ADMIN


@dataclass(frozen=True)
class ExplainRequest:
    tenant_id: str
    action: str
    resource: str = "*"
    principal: str = DEFAULT_PRINCIPAL
    context: Mapping[str, object] | None = None
    #: policy documents (JSON text); empty: an administrator
    identity_policies: Sequence[str] = ()


@dataclass(frozen=True)
class ExplainOutcome:
    tenant_id: str
    account_id: str
    principal: str
    action: str
    resource: str
    decision: Decision
    chain: tuple[ScpLevel, ...]

    def policy_name(self, explanation: Explanation) -> str | None:
        """The SCP's name for an SCP explanation (by level and position), else None."""
        level, index = explanation.level, explanation.policy_index
        if explanation.policy_type is not PolicyType.SCP or level is None or index is None:
            return None
        policies = self.chain[level].policies
        return policies[index].name if index < len(policies) else None


class PolicyExplainer:
    """``tenant``: the tenant by id (NotFoundError if unknown); ``scp_chain``: the SCP levels of
    an account, from the organization (``OrganizationsPort.scp_chain``)."""

    def __init__(
        self,
        *,
        tenant: Callable[[str], Tenant],
        scp_chain: Callable[[str], tuple[ScpLevel, ...]],
    ) -> None:
        self._tenant = tenant
        self._scp_chain = scp_chain

    def explain(self, request: ExplainRequest) -> ExplainOutcome:
        service, sep, name = request.action.partition(":")
        if not (service and sep and name):
            raise ValidationError(
                f"action {request.action!r} is not 'service:Action'",
                hint="e.g. s3:GetObject or organizations:LeaveOrganization",
            )
        tenant = self._tenant(request.tenant_id)
        if tenant.account_id is None:
            raise ConflictError(
                f"tenant {tenant.tenant_id!r} has no AWS account yet",
                hint="wait for its onboarding to create the account, then ask again",
            )
        account = tenant.account_id
        chain = self._scp_chain(account)
        cache = PolicyCache()
        call = evaluate_in_account(
            account_id=account,
            principal=request.principal,
            action=request.action,
            resource=request.resource,
            context=request.context,
            identity=tuple(
                cache.get(text, label=f"identity_policies[{i}]")
                for i, text in enumerate(request.identity_policies)
            ),
            scps=tuple(
                tuple(cache.get(doc.content, label=doc.name) for doc in level.policies)
                for level in chain
            ),
            cache=cache,
        )
        return ExplainOutcome(
            tenant_id=tenant.tenant_id,
            account_id=account,
            principal=call.principal,
            action=request.action,
            resource=call.resource,
            decision=call.decision,
            chain=chain,
        )
