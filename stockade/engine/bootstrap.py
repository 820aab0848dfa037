"""Organization bootstrap: make sure the organization and every OU of the spec exist.

Idempotent: safe at every start. Who calls it: ``server`` before the engine launches (so
recovered workflows find the OU ids), and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.cloud.ports import CloudPort
from stockade.domain.errors import SpecError
from stockade.domain.spec import FleetSpec


@dataclass(frozen=True)
class OrgLayout:
    root_id: str
    management_account_id: str
    #: OU path ("Tenants", "Tenants/Eu") → OU id
    ou_ids: dict[str, str]

    def ou_id(self, path: str) -> str:
        try:
            return self.ou_ids[path]
        except KeyError:
            raise SpecError(
                f"OU {path!r} is not in the organization layout",
                hint="add it under organization.ous in the spec",
            ) from None


def bootstrap_organization(cloud: CloudPort, spec: FleetSpec) -> OrgLayout:
    """Create the organization and the spec's OUs where missing; return their ids."""
    orgs = cloud.organizations()
    root_id = orgs.ensure_organization()
    ou_ids: dict[str, str] = {}
    for path in spec.organization.ou_paths():
        parent = ou_ids["/".join(path[:-1])] if len(path) > 1 else root_id
        ou_ids["/".join(path)] = orgs.ensure_ou(parent_id=parent, name=path[-1])
    return OrgLayout(
        root_id=root_id,
        management_account_id=cloud.management_account_id(),
        ou_ids=ou_ids,
    )
