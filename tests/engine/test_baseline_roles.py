"""Which role deploys a baseline stack (``engine.baseline``), with CloudFormation faked per role.

The org access role creates the access stack; once the roles are in place (or when the org
access role turns out to be locked: a re-run after a crash) the deploy role deploys through a
change set, and a refused deploy role is transient (IAM's delay for a new role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from stockade.cloud.ports import DeployStart, StackInfo
from stockade.domain.errors import CloudAccessDenied, TransientCloudError
from stockade.domain.spec import Organization
from stockade.engine.baseline import BaselineDeployer, BaselineStack
from stockade.engine.timing import EngineTiming

ORG = Organization()
STACK = BaselineStack(
    name="stockade-access", template_body="{}", parameters={"TenantId": "acme"}, tags={}
)


@dataclass
class Account:
    """One account's stacks; roles in ``denied`` are refused (locked, or not assumable yet)."""

    stacks: dict[str, StackInfo] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def port(self, role: str) -> FakeStacks:
        return FakeStacks(self, role)


@dataclass
class FakeStacks:
    account: Account
    role: str

    def _call(self, operation: str) -> None:
        self.account.calls.append((self.role, operation))
        if self.role in self.account.denied:
            raise CloudAccessDenied(f"cloudformation:{operation}: AccessDenied")

    def get_stack(self, *, name: str) -> StackInfo | None:
        self._call("DescribeStacks")
        return self.account.stacks.get(name)

    def create_stack(self, *, name: str, **_: Any) -> str:
        self._call("CreateStack")
        self.account.stacks[name] = StackInfo(name, f"id-{name}", "CREATE_COMPLETE")
        return f"id-{name}"

    def delete_stack(self, *, name: str) -> None:
        self._call("DeleteStack")
        self.account.stacks.pop(name, None)

    def deploy_stack(self, *, name: str, change_set_name: str, **_: Any) -> DeployStart:
        self._call("CreateChangeSet")
        if name in self.account.stacks:
            return DeployStart(f"id-{name}", None, "UPDATE", executed=False, no_changes=True)
        self.account.stacks[name] = StackInfo(name, f"id-{name}", "CREATE_COMPLETE")
        return DeployStart(f"id-{name}", change_set_name, "CREATE", executed=True)

    def wait_stack(self, *, name: str, **_: Any) -> StackInfo:
        self._call("DescribeStacks")
        return self.account.stacks[name]


def _deployer(account: Account) -> BaselineDeployer:
    port: Callable[[str], Any] = account.port
    return BaselineDeployer(
        stacks=port,
        account_id="111122223333",
        organization=ORG,
        timing=EngineTiming(),
        sleep=lambda _: None,
    )


def test_a_new_account_gets_its_access_stack_through_the_org_access_role() -> None:
    account = Account()
    final = _deployer(account).deploy(STACK, roles_in_place=False, change_set_name="cs-a1")
    assert final.status == "CREATE_COMPLETE"
    assert {role for role, _ in account.calls} == {ORG.access_role}
    assert ("OrganizationAccountAccessRole", "CreateStack") in account.calls


def test_once_the_roles_are_in_place_the_org_access_role_is_never_used() -> None:
    account = Account(denied={ORG.access_role})
    final = _deployer(account).deploy(
        BaselineStack("stockade-platform", "{}", {}, {}), roles_in_place=True, change_set_name="a1"
    )
    assert final.status == "CREATE_COMPLETE"
    assert account.calls == [
        (ORG.deploy_role, "DescribeStacks"),
        (ORG.deploy_role, "CreateChangeSet"),
        (ORG.deploy_role, "DescribeStacks"),
    ]


def test_a_rerun_after_the_lock_goes_on_through_the_deploy_role() -> None:
    """The access stack completed (and locked the org access role) but the crash came before
    Stockade recorded it: the re-run finds the org access role denied everything."""
    account = Account(
        stacks={STACK.name: StackInfo(STACK.name, "id-access", "CREATE_COMPLETE")},
        denied={ORG.access_role},
    )
    final = _deployer(account).deploy(STACK, roles_in_place=False, change_set_name="cs-a1")
    assert final.stack_id == "id-access" and final.status == "CREATE_COMPLETE"
    assert account.calls[0] == (ORG.access_role, "DescribeStacks")
    assert {role for role, _ in account.calls[1:]} == {ORG.deploy_role}
    assert "CreateStack" not in {operation for _, operation in account.calls}


def test_a_deploy_role_not_yet_assumable_is_retried_later() -> None:
    account = Account(denied={ORG.access_role, ORG.deploy_role})
    with pytest.raises(TransientCloudError, match="neither OrganizationAccountAccessRole nor"):
        _deployer(account).deploy(STACK, roles_in_place=False, change_set_name="cs-a1")


def test_a_refused_deploy_role_after_the_baseline_is_permanent() -> None:
    account = Account(denied={ORG.deploy_role})
    with pytest.raises(CloudAccessDenied):
        _deployer(account).deploy(STACK, roles_in_place=True, change_set_name="cs-a1")
    assert {role for role, _ in account.calls} == {ORG.deploy_role}
