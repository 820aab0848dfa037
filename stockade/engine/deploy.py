"""Deploying a desired stack into a tenant account: the parameters the engine adds to the
release's own. Shared by onboarding (the baseline) and rollouts.

Who calls it: ``engine.onboarding``, ``engine.tenant_deploy``.
"""

from __future__ import annotations

from stockade.domain.release import TemplateFacts
from stockade.domain.stacks import DesiredStack


def stack_parameters(
    desired: DesiredStack, template: TemplateFacts, *, tenant_id: str, management_account_id: str
) -> dict[str, str]:
    """What the stack is deployed with: the release's parameters, plus ``TenantId`` and
    ``ManagementAccountId`` where the template declares them."""
    engine = {"TenantId": tenant_id, "ManagementAccountId": management_account_id}
    parameters = {k: v for k, v in engine.items() if k in template.parameters}
    parameters.update(desired.parameters)
    return parameters
