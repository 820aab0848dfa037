"""Plans: desired stacks per tier, overrides and pins; actions and reasons against deployed and
recorded state; out-of-band changes; failed and unmanaged stacks; the fleet summary."""

from __future__ import annotations

from dataclasses import replace

from domain_support import deployed_as, recorded_as, release_of, spec_data
from hypothesis import given
from hypothesis import strategies as st

from stockade.domain.plan import (
    Action,
    DeployedStack,
    FleetPlan,
    RecordedStack,
    StackAction,
    TenantPlan,
    TenantSnapshot,
    desired_stacks,
    plan_fleet,
    plan_tenant,
)
from stockade.domain.release import NO_OVERRIDES, Release, TenantOverrides
from stockade.domain.stacks import (
    TAG_LEGACY_BASELINE_VERSION,
    TAG_PARAMS,
    TAG_RELEASE,
    TAG_TENANT,
    TAG_VERSION,
    stack_tags,
)

TENANT = "acme"


def by_name(plan: TenantPlan) -> dict[str, StackAction]:
    return {a.stack_name: a for a in plan.actions}


def actions(plan: TenantPlan) -> dict[str, Action]:
    return {a.stack_name: a.action for a in plan.actions}


def bumped(service: str, version: str) -> Release:
    data = spec_data()
    data["services"][service]["version"] = version
    return release_of(data)


def settled(
    release: Release, tier: str, overrides: TenantOverrides = NO_OVERRIDES
) -> tuple[list[DeployedStack], list[RecordedStack]]:
    """A tenant fully deployed at ``release``: its stacks and Stockade's records agree."""
    desired = desired_stacks(release, tier, overrides)
    return deployed_as(TENANT, desired), recorded_as(desired)


# --- desired stacks -----------------------------------------------------------------------


def test_desired_stacks_follow_the_tier_baseline_first() -> None:
    release = release_of()
    names = [d.stack_name for d in desired_stacks(release, "pro")]
    assert names == [
        "stockade-access",
        "stockade-platform",
        "stockade-svc-api",
        "stockade-svc-orders",
        "stockade-svc-notifications",
    ]
    assert all(d.release_id == release.release_id for d in desired_stacks(release, "pro"))


def test_parameter_precedence() -> None:
    release = release_of()
    plain = {d.stack_name: d.parameters for d in desired_stacks(release, "free")}
    assert plain["stockade-svc-api"] == {"MemorySize": "256", "Tier": "free", "Features": ""}
    tiered = {d.stack_name: d.parameters for d in desired_stacks(release, "enterprise")}
    # tier parameters override service defaults, only where the template declares them
    assert tiered["stockade-svc-api"]["MemorySize"] == "2048"
    assert tiered["stockade-svc-orders"] == {"MemorySize": "2048"}
    assert tiered["stockade-svc-workflows"] == {}
    assert tiered["stockade-platform"] == {"LogRetentionDays": "365", "Tier": "enterprise"}
    overrides = TenantOverrides(
        parameters={"MemorySize": 3000},
        service_parameters={"orders": {"MemorySize": 4000}},
        features=("beta",),
    )
    mine = {d.stack_name: d.parameters for d in desired_stacks(release, "enterprise", overrides)}
    # tenant-wide beats the tier, per-service beats tenant-wide
    assert mine["stockade-svc-api"]["MemorySize"] == "3000"
    assert mine["stockade-svc-orders"]["MemorySize"] == "4000"
    assert mine["stockade-svc-api"]["Features"] == "beta,sso,webhooks"
    assert "MemorySize" not in mine["stockade-svc-notifications"]


def test_parameter_hash_tracks_the_parameters() -> None:
    release = release_of()
    a = desired_stacks(release, "free")[-1]
    b = desired_stacks(release, "free", TenantOverrides(parameters={"MemorySize": 1}))[-1]
    assert a.params_sha256 != b.params_sha256
    assert desired_stacks(release, "free")[-1].params_sha256 == a.params_sha256


# --- plans --------------------------------------------------------------------------------


def test_a_new_tenant_gets_every_stack_created() -> None:
    release = release_of()
    plan = plan_tenant(TENANT, desired_stacks(release, "free"), [])
    assert all(a.action is Action.CREATE for a in plan.actions)
    reasons = [a.reason for a in plan.actions]
    assert reasons == [
        "new baseline stack stockade-access",
        "new baseline stack stockade-platform",
        "new service api",
        "new service orders",
    ]
    assert plan.counts[Action.CREATE] == 4


def test_an_up_to_date_tenant_has_nothing_to_do() -> None:
    release = release_of()
    deployed, recorded = settled(release, "pro")
    plan = plan_tenant(TENANT, desired_stacks(release, "pro"), deployed, recorded)
    assert {a.action for a in plan.actions} == {Action.NONE}
    assert plan.changes == ()
    assert all(a.reason == "up to date" for a in plan.actions)


def test_a_version_bump_updates_only_that_service() -> None:
    old, new = release_of(), bumped("orders", "1.1.0")
    deployed, recorded = settled(old, "pro")
    plan = plan_tenant(TENANT, desired_stacks(new, "pro"), deployed, recorded)
    assert [a.stack_name for a in plan.changes] == ["stockade-svc-orders"]
    assert plan.changes[0].action is Action.UPDATE
    assert plan.changes[0].reason == "version 1.0.0 → 1.1.0"
    # unchanged stacks keep their older release tag and are not touched
    assert by_name(plan)["stockade-svc-api"].reason == "up to date"


def test_a_changed_template_is_an_update() -> None:
    old, new = release_of(), release_of(changed=["templates/api.yaml"])
    deployed, recorded = settled(old, "free")
    plan = plan_tenant(TENANT, desired_stacks(new, "free"), deployed, recorded)
    assert [(a.stack_name, a.reason) for a in plan.changes] == [
        ("stockade-svc-api", "template changed")
    ]


def test_a_tier_parameter_change_names_the_parameter() -> None:
    old = release_of()
    data = spec_data()
    data["tiers"]["pro"]["parameters"]["MemorySize"] = 1536
    new = release_of(data)
    deployed, recorded = settled(old, "pro")
    plan = plan_tenant(TENANT, desired_stacks(new, "pro"), deployed, recorded)
    assert {a.stack_name: a.reason for a in plan.changes} == {
        "stockade-svc-api": "parameters changed: MemorySize",
        "stockade-svc-orders": "parameters changed: MemorySize",
    }
    # without Stockade's records the hash still shows the change, without names
    unnamed = plan_tenant(TENANT, desired_stacks(new, "pro"), deployed)
    assert {a.reason for a in unnamed.changes} == {"parameters changed"}


def test_moving_up_a_tier_adds_services_and_changes_tier_parameters() -> None:
    release = release_of()
    deployed, recorded = settled(release, "free")
    plan = plan_tenant(
        TENANT, desired_stacks(release, "enterprise"), deployed, recorded, release=release
    )
    assert actions(plan) == {
        "stockade-access": Action.NONE,
        "stockade-platform": Action.UPDATE,
        "stockade-svc-api": Action.UPDATE,
        "stockade-svc-orders": Action.UPDATE,
        "stockade-svc-notifications": Action.CREATE,
        "stockade-svc-workflows": Action.CREATE,
    }
    assert by_name(plan)["stockade-svc-workflows"].reason == "new service workflows"
    assert by_name(plan)["stockade-platform"].reason == "parameters changed: LogRetentionDays, Tier"


def test_moving_down_a_tier_deletes_services_after_the_rest() -> None:
    release = release_of()
    deployed, recorded = settled(release, "enterprise")
    plan = plan_tenant(
        TENANT, desired_stacks(release, "free"), deployed, recorded, release=release, tier="free"
    )
    deletes = [a for a in plan.actions if a.action is Action.DELETE]
    assert [(a.stack_name, a.reason) for a in deletes] == [
        ("stockade-svc-notifications", "service notifications is not in tier free"),
        ("stockade-svc-workflows", "service workflows is not in tier free"),
    ]
    assert plan.actions[-len(deletes) :] == tuple(deletes)


def test_a_service_removed_from_the_release_is_deleted() -> None:
    old = release_of()
    data = spec_data()
    del data["services"]["workflows"]
    data["tiers"]["enterprise"]["services"].remove("workflows")
    new = release_of(data)
    deployed, recorded = settled(old, "enterprise")
    plan = plan_tenant(
        TENANT, desired_stacks(new, "enterprise"), deployed, recorded, release=new, tier="pro"
    )
    assert [(a.stack_name, a.action, a.reason) for a in plan.changes] == [
        ("stockade-svc-workflows", Action.DELETE, "service workflows was removed from the release")
    ]


def test_a_pinned_service_stays_as_it_was_in_the_pinned_release() -> None:
    old, new = release_of(), bumped("api", "1.1.0")
    releases = {old.release_id: old, new.release_id: new}
    pinned = TenantOverrides(pins={"api": old.release_id})
    deployed, recorded = settled(old, "free")
    desired = desired_stacks(new, "free", pinned, releases)
    api = next(d for d in desired if d.service == "api")
    assert (api.version, api.release_id, api.pinned) == ("1.0.0", old.release_id, True)
    plan = plan_tenant(TENANT, desired, deployed, recorded)
    assert plan.changes == ()
    assert (
        by_name(plan)["stockade-svc-api"].reason == f"up to date; pinned to release {old.short_id}"
    )
    # a tenant already on the new version, pinned back, is rolled back
    ahead, ahead_records = settled(new, "free")
    back = plan_tenant(TENANT, desired, ahead, ahead_records)
    assert [(a.stack_name, a.reason) for a in back.changes] == [
        ("stockade-svc-api", f"version 1.1.0 → 1.0.0; pinned to release {old.short_id}")
    ]


def test_a_pin_keeps_tier_parameters_and_overrides_current() -> None:
    old = release_of()
    data = spec_data()
    data["services"]["api"]["version"] = "1.1.0"
    data["tiers"]["free"]["parameters"] = {"MemorySize": 640}
    new = release_of(data)
    overrides = TenantOverrides(pins={"api": old.release_id}, features=("beta",))
    api = desired_stacks(new, "free", overrides, {old.release_id: old})[2]
    assert api.version == "1.0.0"
    assert api.parameters == {"MemorySize": "640", "Tier": "free", "Features": "beta"}


def test_overrides_change_only_that_tenant() -> None:
    release = release_of()
    deployed, recorded = settled(release, "free")
    overrides = TenantOverrides(service_parameters={"orders": {"MemorySize": 999}})
    plan = plan_tenant(TENANT, desired_stacks(release, "free", overrides), deployed, recorded)
    assert [(a.stack_name, a.reason) for a in plan.changes] == [
        ("stockade-svc-orders", "parameters changed: MemorySize")
    ]


def test_an_out_of_band_tag_change_is_reported() -> None:
    release = release_of()
    deployed, recorded = settled(release, "free")
    tampered = [
        replace(s, params_sha256="0" * 64) if s.stack_name == "stockade-svc-api" else s
        for s in deployed
    ]
    plan = plan_tenant(TENANT, desired_stacks(release, "free"), tampered, recorded)
    [change] = plan.changes
    assert change.stack_name == "stockade-svc-api"
    assert change.action is Action.UPDATE
    assert change.out_of_band == (TAG_PARAMS,)
    assert change.reason == (
        "parameters changed; out-of-band change: stack tag stockade:params-sha256 differs "
        "from what Stockade recorded"
    )


def test_a_stale_record_is_reported_even_when_the_stack_is_right() -> None:
    old, new = release_of(), bumped("api", "2.0.0")
    deployed, _ = settled(new, "free")
    _, old_records = settled(old, "free")
    plan = plan_tenant(TENANT, desired_stacks(new, "free"), deployed, old_records)
    api = by_name(plan)["stockade-svc-api"]
    assert api.action is Action.NONE
    assert api.out_of_band == (TAG_VERSION, TAG_RELEASE)
    assert api.reason == (
        "up to date; out-of-band change: stack tags stockade:version, stockade:release differ "
        "from what Stockade recorded"
    )


def test_a_stack_deleted_out_of_band_is_recreated() -> None:
    release = release_of()
    deployed, recorded = settled(release, "free")
    remaining = [s for s in deployed if s.stack_name != "stockade-svc-orders"]
    plan = plan_tenant(TENANT, desired_stacks(release, "free"), remaining, recorded)
    [change] = plan.changes
    assert (change.stack_name, change.action) == ("stockade-svc-orders", Action.CREATE)
    assert "missing from the account" in change.reason


def test_a_failed_stack_is_recreated() -> None:
    release = release_of()
    desired = desired_stacks(release, "free")
    deployed = deployed_as(TENANT, desired[:-1]) + deployed_as(
        TENANT, desired[-1:], status="ROLLBACK_COMPLETE"
    )
    plan = plan_tenant(TENANT, desired, deployed)
    [change] = plan.changes
    assert (change.stack_name, change.action) == ("stockade-svc-orders", Action.CREATE)
    assert change.reason == "stack in ROLLBACK_COMPLETE, recreate"


def test_a_failed_stack_that_is_no_longer_wanted_is_deleted() -> None:
    release = release_of()
    deployed = deployed_as(TENANT, desired_stacks(release, "pro"))
    deployed[-1] = replace(deployed[-1], status="CREATE_FAILED")
    plan = plan_tenant(TENANT, desired_stacks(release, "free"), deployed, release=release)
    [change] = [a for a in plan.actions if a.action is Action.DELETE]
    assert change.stack_name == "stockade-svc-notifications"
    assert change.reason == (
        "service notifications is not in the tenant's tier (stack in CREATE_FAILED)"
    )


def test_stacks_without_stockade_tags_are_adopted() -> None:
    release = release_of()
    desired = desired_stacks(release, "free")
    bare = [DeployedStack(d.stack_name, "CREATE_COMPLETE") for d in desired]
    plan = plan_tenant(TENANT, desired, bare)
    assert {a.action for a in plan.actions} == {Action.UPDATE}
    assert plan.actions[0].reason == "stack has no Stockade tags, adopt it"


def test_the_legacy_baseline_version_tag_is_read() -> None:
    release = release_of()
    [access, *_] = desired_stacks(release, "free")
    tags = stack_tags(TENANT, access)
    tags[TAG_LEGACY_BASELINE_VERSION] = tags.pop("stockade:version")
    deployed = DeployedStack.from_tags(access.stack_name, "UPDATE_COMPLETE", tags)
    assert plan_tenant(TENANT, [access], [deployed]).changes == ()


def test_unmanaged_stacks_are_never_deleted() -> None:
    release = release_of()
    desired = desired_stacks(release, "free")
    deployed = [
        *deployed_as(TENANT, desired),
        DeployedStack("my-own-stack", "CREATE_COMPLETE"),
        DeployedStack.from_tags("someone-elses", "CREATE_COMPLETE", {TAG_TENANT: "other"}),
        DeployedStack.from_tags("stockade-svc-x", "CREATE_COMPLETE", {TAG_TENANT: "other"}),
        DeployedStack("stockade-svc-gone", "CREATE_COMPLETE"),
        DeployedStack.from_tags("stockade-extra", "CREATE_COMPLETE", {TAG_TENANT: TENANT}),
    ]
    plan = plan_tenant(TENANT, desired, deployed, release=release, tier="free")
    assert plan.unmanaged == ("my-own-stack", "someone-elses", "stockade-svc-x")
    assert {a.stack_name for a in plan.changes} == {"stockade-svc-gone", "stockade-extra"}
    assert by_name(plan)["stockade-svc-gone"].reason == "service gone was removed from the release"
    assert by_name(plan)["stockade-extra"].reason == (
        "stack stockade-extra is no longer in the release"
    )


names = st.text(alphabet="abcdefgh-", min_size=1, max_size=12)
tag_sets = st.one_of(
    st.just({}),
    st.builds(lambda t: {TAG_TENANT: t}, st.sampled_from([TENANT, "other"])),
)


@given(
    st.lists(
        st.tuples(st.sampled_from(["", "stockade-svc-", "stockade-"]), names, tag_sets),
        max_size=12,
    )
)
def test_only_managed_stacks_are_ever_deleted(
    stacks: list[tuple[str, str, dict[str, str]]],
) -> None:
    release = release_of()
    deployed = {
        prefix + name: DeployedStack.from_tags(prefix + name, "CREATE_COMPLETE", tags)
        for prefix, name, tags in stacks
    }
    plan = plan_tenant(TENANT, desired_stacks(release, "free"), list(deployed.values()))
    for action in plan.actions:
        if action.action is Action.DELETE:
            stack = deployed[action.stack_name]
            assert stack.tenant == TENANT or (
                stack.tenant is None and stack.stack_name.startswith("stockade-svc-")
            )
    for name in plan.unmanaged:
        assert name not in {a.stack_name for a in plan.actions}


# --- the fleet ----------------------------------------------------------------------------


def test_plan_fleet_summarizes_and_isolates_bad_tenants() -> None:
    old, new = release_of(), bumped("api", "1.1.0")
    free_deployed, free_recorded = settled(old, "free")
    pro_deployed, _ = settled(old, "pro")
    tenants = [
        TenantSnapshot("fresh", "free", []),
        TenantSnapshot("steady", "free", free_deployed, recorded=free_recorded),
        TenantSnapshot(
            "pinned", "free", free_deployed, TenantOverrides(pins={"api": old.release_id})
        ),
        TenantSnapshot("upgraded", "pro", pro_deployed),
        TenantSnapshot("badpin", "free", [], TenantOverrides(pins={"api": "a" * 64})),
        TenantSnapshot("badtier", "gold", []),
    ]
    plan = plan_fleet(new, tenants, {old.release_id: old})
    assert isinstance(plan, FleetPlan)
    assert plan.release_id == new.release_id
    assert [t.tenant_id for t in plan.tenants] == [t.tenant_id for t in tenants]
    per_tenant = {t.tenant_id: t for t in plan.tenants}
    assert per_tenant["fresh"].counts[Action.CREATE] == 4
    assert [a.stack_name for a in per_tenant["steady"].changes] == ["stockade-svc-api"]
    assert per_tenant["pinned"].changes == ()
    assert [a.stack_name for a in per_tenant["upgraded"].changes] == ["stockade-svc-api"]
    assert per_tenant["badpin"].error is not None and "not known" in per_tenant["badpin"].error
    assert per_tenant["badtier"].error is not None and "gold" in per_tenant["badtier"].error
    assert plan.counts == {
        Action.CREATE: 4,
        Action.UPDATE: 2,
        Action.DELETE: 0,
        Action.NONE: 3 + 4 + 4,
    }
    assert (plan.tenants_changed, plan.tenants_failed) == (3, 2)
    assert plan.summary()["update"] == 2


def test_plan_fleet_equals_planning_each_tenant() -> None:
    release = release_of()
    overrides = [TenantOverrides(), TenantOverrides(parameters={"MemorySize": 7})]
    tenants = [
        TenantSnapshot(f"t{i}", tier, [], overrides[i % 2])
        for i, tier in enumerate(["free", "pro", "enterprise"] * 4)
    ]
    fleet = plan_fleet(release, tenants)
    for tenant, plan in zip(tenants, fleet.tenants, strict=True):
        alone = plan_tenant(
            tenant.tenant_id,
            desired_stacks(release, tenant.tier, tenant.overrides),
            [],
            release=release,
            tier=tenant.tier,
        )
        assert plan == alone
