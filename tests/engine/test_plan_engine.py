"""Plans over the real engine: onboarding leaves the baseline and the tier's services planned as
up to date, and a change made behind Stockade's back shows up as such."""

from __future__ import annotations

from engine.rollout_support import wait_services
from engine.support import account_client, wait_settled
from stockade.domain.plan import Action, StackAction
from stockade.domain.stacks import TAG_PARAMS
from stockade.domain.tenant import TenantRequest
from stockade.server.control import ControlPlane


def _name(action: StackAction) -> str:
    stack = action.desired or action.deployed
    assert stack is not None
    return stack.stack_name


def _actions(
    plane: ControlPlane, tenant_id: str, *, refresh: bool = False
) -> dict[str, StackAction]:
    outcome = plane.planner.plan(refresh=refresh)
    (plan,) = [t for t in outcome.plan.tenants if t.tenant_id == tenant_id]
    return {_name(a): a for a in plan.actions}


def test_after_onboarding_the_baseline_and_the_services_are_up_to_date(
    plane: ControlPlane,
) -> None:
    plane.service.create_tenant(TenantRequest(tenant_id="planned", tier="free"), actor="test")
    assert wait_settled(plane, ["planned"])["planned"].state.value == "active"
    wait_services(plane, ["planned"])
    actions = _actions(plane, "planned")
    baseline = {s.name for s in plane.spec.spec.baseline.stacks}
    services = {f"stockade-svc-{s}" for s in plane.spec.spec.tiers["free"].services}
    assert set(actions) == baseline | services
    assert {a.action for a in actions.values()} == {Action.NONE}
    # what onboarding deployed is recorded
    recorded = {r.stack_name for r in plane.deployments.recorded_for("planned")}
    assert recorded == baseline | services


def test_an_out_of_band_change_is_planned_and_explained(plane: ControlPlane) -> None:
    plane.service.create_tenant(TenantRequest(tenant_id="tampered", tier="free"), actor="test")
    tenant = wait_settled(plane, ["tampered"])["tampered"]
    stack = plane.spec.spec.baseline.stacks[0].name
    cfn = account_client(plane, "cloudformation", tenant.account_id or "")
    (described,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    tags[TAG_PARAMS] = "0" * 64  # someone changed the stack's parameters behind our back
    change_set = cfn.create_change_set(
        StackName=stack,
        ChangeSetName="out-of-band",
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in described.get("Parameters", [])
        ],
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    # the snapshot taken at onboarding does not know yet; a refreshed plan does
    assert _actions(plane, "tampered")[stack].action is Action.NONE
    action = _actions(plane, "tampered", refresh=True)[stack]
    assert action.action is Action.UPDATE
    assert "out-of-band" in action.reason
    assert TAG_PARAMS in action.out_of_band


def test_a_refreshed_plan_sees_stacks_deleted_behind_our_back(plane: ControlPlane) -> None:
    plane.service.create_tenant(TenantRequest(tenant_id="emptied", tier="free"), actor="test")
    tenant = wait_settled(plane, ["emptied"])["emptied"]
    cfn = account_client(plane, "cloudformation", tenant.account_id or "")
    baseline = [s.name for s in plane.spec.spec.baseline.stacks]
    for name in baseline:
        cfn.delete_stack(StackName=name)
    outcome = plane.planner.plan(refresh=True)
    assert outcome.observed_now >= 1  # every planned account was read again
    actions = _actions(plane, "emptied")  # the refreshed snapshot is now the one kept
    for name in baseline:
        assert actions[name].action is Action.CREATE, actions[name].reason
