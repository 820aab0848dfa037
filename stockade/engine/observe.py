"""Read what a tenant account holds (its Stockade-managed stacks) and store it as observed.

One paginated DescribeStacks per account, through the read role the baseline's access stack
creates (``organization.read_role``: DescribeStacks and ListStacks only), never the org access
role, which the baseline may have locked. Who calls it: ``engine.onboarding`` (after the
baseline) and ``engine.planning`` (before a plan, for accounts never read or on refresh).
"""

from __future__ import annotations

from stockade.cloud.ports import CloudPort
from stockade.domain.spec import FleetSpec
from stockade.domain.stacks import TAG_TENANT, DeployedStack
from stockade.domain.tenant import Tenant
from stockade.store.deployments import DeploymentRepository


def observe_account(
    tenant: Tenant, cloud: CloudPort, spec: FleetSpec, deployments: DeploymentRepository
) -> list[DeployedStack]:
    """The tenant's managed stacks as deployed now; saved as its observed snapshot."""
    if tenant.account_id is None:
        return []
    stacks = cloud.stacks(
        account_id=tenant.account_id,
        role_name=spec.organization.read_role,
        region=spec.home_region,
    ).list_managed_stacks(tag_key=TAG_TENANT)
    deployed = [DeployedStack.from_tags(s.name, s.status, s.tags) for s in stacks]
    deployments.save_observed(tenant.tenant_id, deployed)
    return deployed
