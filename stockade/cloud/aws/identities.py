"""Which identity makes which adapter call: the table that turns declarations into policies.

Each adapter method declares its IAM actions (``@requires``, ``cloud.aws.permissions``); this
table only says *who* calls it, by class and method, never listing an action itself:

- the **management** identity (the IAM user or role Stockade runs as) calls Organizations, and
  STS to assume tenant roles: Stockade's own (``sts.assume_role``, through ``acting``) and the
  people's (``AwsCloud.issue_session``, ``stockade access``);
- the **deploy** role (baseline) deploys: rollouts and the baseline after its access stack;
- the **read** role (baseline) makes CloudFormation's reads (plans, observation, checks);
- the **scan** role (baseline) makes the credential scan's IAM reads.

The org access role (``OrganizationAccountAccessRole``) also makes CloudFormation calls
(``ORG_ACCESS_METHODS``), to create the access stack before the baseline's roles exist; AWS
creates it with ``AdministratorAccess``, so it has no generated policy (the baseline locks it).

``declarations()`` resolves the table against the code; a ``Use`` naming a method that declares
nothing fails loudly, and a test checks that every declaring method of every adapter that
implements a port is used by some identity (or by the org access role).

Who calls it: ``server.iam`` (``stockade iam policy``) and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from stockade.cloud.aws.cloudformation import CloudFormationStacks
from stockade.cloud.aws.iam_scan import IamCredentials
from stockade.cloud.aws.organizations import Organizations
from stockade.cloud.aws.permissions import declared, declared_actions
from stockade.cloud.aws.session import AwsCloud
from stockade.cloud.aws.sts import assume_role
from stockade.domain.iam import Declared, Identity, RoleSet

__all__ = ["DEPLOY_METHODS", "ORG_ACCESS_METHODS", "READ_METHODS", "USES", "Use", "declarations"]


@dataclass(frozen=True)
class Use:
    """``identity`` calls ``methods`` of ``owner`` (a class; None: every declaring method), or
    ``owner`` itself (a function)."""

    identity: Identity
    owner: type | Callable[..., object]
    methods: tuple[str, ...] | None = None
    #: whose roles the ``sts:`` actions of these methods assume
    assumes: RoleSet | None = None


#: what the deploy role does: rollouts (``engine.tenant_deploy``) and every baseline stack after
#: the access stack (``engine.baseline``), through change sets only
DEPLOY_METHODS: Final = ("deploy_stack", "wait_stack", "get_stack", "delete_stack")
#: the CloudFormation reads the read role makes: observation, plans, the baseline's check
READ_METHODS: Final = ("get_stack", "list_managed_stacks", "list_stack_resources")
#: what creating a new account's access stack does through the org access role
#: (``engine.baseline``; AWS gives that role ``AdministratorAccess``: no generated policy);
#: ``create_stack`` is used nowhere else
ORG_ACCESS_METHODS: Final = ("create_stack", "get_stack", "delete_stack")

USES: Final[tuple[Use, ...]] = (
    Use(Identity.MANAGEMENT, Organizations),
    Use(Identity.MANAGEMENT, assume_role, assumes=RoleSet.STOCKADE),
    Use(Identity.MANAGEMENT, AwsCloud, ("issue_session",), assumes=RoleSet.PEOPLE),
    Use(
        Identity.MANAGEMENT,
        AwsCloud,
        ("management_account_id", "organizations", "stacks", "credentials"),
    ),
    Use(Identity.DEPLOY, CloudFormationStacks, DEPLOY_METHODS),
    Use(Identity.READ, CloudFormationStacks, READ_METHODS),
    Use(Identity.SCAN, IamCredentials),
)


def declarations(uses: tuple[Use, ...] = USES) -> list[Declared]:
    """What each use's methods declared, for ``domain.iam.generate_policies``.

    Raises ``LookupError`` for a use naming a method its class does not declare (renamed, or
    its ``@requires`` forgotten)."""
    found: list[Declared] = []
    for use in uses:
        if isinstance(use.owner, type):
            by_method = declared_actions(use.owner)
            names = use.methods if use.methods is not None else tuple(sorted(by_method))
            for name in names:
                if name not in by_method:
                    raise LookupError(
                        f"{use.owner.__name__}.{name} declares no IAM actions (@requires), "
                        f"but cloud.aws.identities says the {use.identity} identity calls it"
                    )
                found.append(
                    Declared(
                        use.identity, f"{use.owner.__name__}.{name}", by_method[name], use.assumes
                    )
                )
        else:
            actions = declared(use.owner)
            where = f"{use.owner.__module__}.{getattr(use.owner, '__name__', '?')}"
            if actions is None:
                raise LookupError(f"{where} declares no IAM actions (@requires)")
            found.append(Declared(use.identity, where, actions, use.assumes))
    return found
