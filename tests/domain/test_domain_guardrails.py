"""``domain.guardrails``: SCP targets, the spec's guardrails section, and the reconcile plan."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stockade.domain.guardrails import (
    DesiredScp,
    ObservedScp,
    ScpActionKind,
    ScpTarget,
    TargetKind,
    plan_scps,
)
from stockade.domain.spec import FleetSpec

ROOT = ScpTarget(TargetKind.ROOT)
TENANTS = ScpTarget(TargetKind.OU, "Tenants")
SUSPENDED = ScpTarget(TargetKind.OU, "Suspended")
DENY = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"x:Y","Resource":"*"}]}'


def desired(name: str = "guard", *targets: ScpTarget, content: str = DENY) -> DesiredScp:
    return DesiredScp(name, "", content, frozenset(targets or (TENANTS,)))


def observed(
    name: str = "guard",
    *targets: ScpTarget,
    content: str = DENY,
    managed: bool = True,
    aws: bool = False,
) -> ObservedScp:
    return ObservedScp(f"p-{name}", name, "", content, aws, managed, frozenset(targets))


def kinds(actions: list) -> list[tuple[str, str, str | None]]:  # type: ignore[type-arg]
    return [(a.kind.value, a.policy, str(a.target) if a.target else None) for a in actions]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("root", ROOT),
        ("ou:Tenants", TENANTS),
        ("ou:/Tenants/Eu/", ScpTarget(TargetKind.OU, "Tenants/Eu")),
        ("account:123456789012", ScpTarget(TargetKind.ACCOUNT, "123456789012")),
    ],
)
def test_targets_parse_and_print(text: str, target: ScpTarget) -> None:
    assert ScpTarget.parse(text) == target
    assert ScpTarget.parse(str(target)) == target


@pytest.mark.parametrize("text", ["Root", "ou:", "account:12", "tenant:acme", ""])
def test_bad_targets_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="'root', 'ou:PATH'"):
        ScpTarget.parse(text)


def test_a_new_scp_is_created_then_attached() -> None:
    actions = plan_scps((desired("guard", ROOT, TENANTS),), (observed("FullAWSAccess", aws=True),))
    assert kinds(actions) == [
        ("create", "guard", None),
        ("attach", "guard", "root"),
        ("attach", "guard", "ou:Tenants"),
    ]


def test_in_sync_means_nothing_to_do_even_with_other_whitespace() -> None:
    pretty = DENY.replace(",", ", ").replace("{", "{ ")
    assert plan_scps((desired(),), (observed("guard", TENANTS, content=pretty),)) == []


def test_changed_content_updates_and_moved_targets_detach_before_attach() -> None:
    other = DENY.replace("x:Y", "x:Z")
    actions = plan_scps(
        (desired("guard", SUSPENDED),), (observed("guard", TENANTS, content=other),)
    )
    assert kinds(actions) == [
        ("update", "guard", None),
        ("detach", "guard", "ou:Tenants"),
        ("attach", "guard", "ou:Suspended"),
    ]
    assert actions[0].reason == "content changed"
    assert all(a.policy_id == "p-guard" for a in actions)


def test_a_dropped_managed_scp_is_detached_everywhere_then_deleted() -> None:
    actions = plan_scps((), (observed("old", ROOT, TENANTS),))
    assert kinds(actions) == [
        ("detach", "old", "root"),
        ("detach", "old", "ou:Tenants"),
        ("delete", "old", None),
    ]


def test_policies_that_are_not_stockades_are_never_touched() -> None:
    foreign = observed("someone-elses", ROOT, managed=False)
    full = observed("FullAWSAccess", ROOT, TENANTS, aws=True)
    assert plan_scps((), (foreign, full)) == []
    # AWS-managed policies are not "ours" even if the spec reuses their name
    actions = plan_scps((desired("FullAWSAccess"),), (full,))
    assert actions[0].kind is ScpActionKind.CREATE


def spec_with(guardrails: dict[str, object], **extra: object) -> FleetSpec:
    return FleetSpec.model_validate({"tiers": {"free": {}}, "guardrails": guardrails, **extra})


def test_the_spec_checks_targets_against_its_ous() -> None:
    scp = {"name": "g", "file": "p.json", "targets": ["ou:Nowhere"]}
    with pytest.raises(
        ValidationError, match="targets unknown OU 'Nowhere'; OUs: Suspended, Tenants"
    ):
        spec_with({"scps": [scp]})


def test_the_spec_counts_scps_per_target_with_full_aws_access() -> None:
    scps = [{"name": f"g{i}", "file": "p.json", "targets": ["root"]} for i in range(5)]
    with pytest.raises(ValidationError, match="5 SCPs target root, but at most 4 fit"):
        spec_with({"scps": scps})
    assert spec_with({"scps": scps}, limits={"scp_max_per_target": 10}).guardrails.scps


def test_the_spec_refuses_duplicates_and_bad_expectations() -> None:
    scp = {"name": "g", "file": "p.json", "targets": ["root"]}
    with pytest.raises(ValidationError, match="two SCPs with the same name"):
        spec_with({"scps": [scp, scp]})
    with pytest.raises(ValidationError, match="expect"):
        spec_with({"tests": [{"name": "t", "action": "s3:GetObject", "expect": "maybe"}]})
    with pytest.raises(ValidationError, match="unknown OU 'Ghost'"):
        spec_with({"tests": [{"name": "t", "action": "a:b", "expect": "allow", "ou": "Ghost"}]})
