"""Releases: content-hashed identity, integrity on reload, tenant overrides and their checks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pydantic
import pytest
from domain_support import release_of, sha, spec_data, template_facts

from stockade.domain.errors import NotFoundError, SpecError
from stockade.domain.release import (
    Release,
    StackKind,
    TenantOverrides,
    build_release,
    check_overrides,
    service_stack_name,
)
from stockade.domain.spec import FleetSpec


def test_the_same_content_gives_the_same_id() -> None:
    first, second = release_of(), release_of()
    assert first.release_id == second.release_id
    assert len(first.release_id) == 64
    assert first == second


def test_parameter_values_compare_as_cloudformation_strings() -> None:
    data = spec_data()
    data["services"]["api"]["parameters"]["MemorySize"] = "256"
    assert release_of(data).release_id == release_of().release_id


def test_mapping_order_does_not_change_the_id() -> None:
    data = spec_data()
    data["services"] = dict(reversed(list(data["services"].items())))
    data["tiers"]["pro"]["features"] = ["webhooks", "webhooks"]
    assert release_of(data).release_id == release_of().release_id


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        _set(("services", "api", "version"), "1.1.0"),
        _set(("services", "api", "parameters", "MemorySize"), 512),
        _set(("services", "orders", "parameters"), {"MemorySize": 128}),
        _set(("baseline", "version"), "2.0.0"),
        _set(("baseline", "stacks", 1, "parameters", "LogRetentionDays"), 30),
        _set(("tiers", "free", "services"), ["api"]),
        _set(("tiers", "free", "parameters"), {"MemorySize": 128}),
        _set(("tiers", "free", "features"), ["beta"]),
        _set(("tiers", "free", "observability"), "full"),
    ],
    ids=[
        "service-version",
        "service-parameter",
        "new-service-parameter",
        "baseline-version",
        "baseline-parameter",
        "tier-services",
        "tier-parameters",
        "tier-features",
        "tier-observability",
    ],
)
def test_any_change_gives_a_new_id(change: Callable[[dict[str, Any]], None]) -> None:
    data = copy.deepcopy(spec_data())
    change(data)
    assert release_of(data).release_id != release_of().release_id


def test_a_changed_template_gives_a_new_id() -> None:
    assert release_of(changed=["templates/orders.yaml"]).release_id != release_of().release_id


def test_template_hashes_alone_are_enough_to_build_a_release() -> None:
    spec = FleetSpec.model_validate(spec_data())
    hashes = {path: facts.sha256 for path, facts in template_facts().items()}
    release = build_release(spec, hashes)
    assert release.services["orders"].template_sha256 == sha("templates/orders.yaml")
    assert release.services["orders"].accepts is None


def test_release_content() -> None:
    release = release_of()
    assert [s.name for s in release.baseline] == ["stockade-access", "stockade-platform"]
    assert all(s.kind is StackKind.BASELINE and s.version == "1.0.0" for s in release.baseline)
    api = release.services["api"]
    assert api.name == service_stack_name("api")
    assert (api.kind, api.service, api.version) == (StackKind.SERVICE, "api", "1.0.0")
    assert api.parameters == {"MemorySize": "256"}
    assert release.tiers["enterprise"].features == ("sso", "webhooks")
    assert release.tiers["pro"].parameters == {"MemorySize": "1024"}


def test_a_stored_release_loads_back_and_is_checked_against_its_id() -> None:
    release = release_of()
    stored = release.model_dump_json()
    assert Release.model_validate_json(stored) == release
    tampered = stored.replace('"MemorySize":"256"', '"MemorySize":"512"')
    assert tampered != stored
    with pytest.raises(pydantic.ValidationError, match="does not match its content"):
        Release.model_validate_json(tampered)


def test_a_missing_template_hash_is_a_spec_error() -> None:
    spec = FleetSpec.model_validate(spec_data())
    facts = template_facts()
    del facts["templates/orders.yaml"]
    with pytest.raises(SpecError, match=r"templates/orders\.yaml"):
        build_release(spec, facts)


def test_a_baseline_stack_named_like_a_service_stack_is_refused() -> None:
    data = spec_data()
    data["baseline"]["stacks"][0]["name"] = service_stack_name("api")
    with pytest.raises(SpecError, match="used twice"):
        release_of(data)


def test_unknown_tier() -> None:
    with pytest.raises(NotFoundError, match="no tier 'gold'"):
        release_of().tier("gold")


def test_overrides_are_canonical() -> None:
    a = TenantOverrides(parameters={"MemorySize": 512, "Debug": True}, features=("b", "a", "a"))
    b = TenantOverrides(parameters={"Debug": "true", "MemorySize": "512"}, features=("a", "b"))
    assert a == b
    assert a.key == b.key
    assert a.features == ("a", "b")
    assert TenantOverrides(parameters={"MemorySize": 1}).key != a.key


def test_pins_must_be_release_ids() -> None:
    with pytest.raises(pydantic.ValidationError, match="full release id"):
        TenantOverrides(pins={"api": "1.0.0"})
    release = release_of()
    assert TenantOverrides(pins={"api": release.release_id}).pins == {"api": release.release_id}


def test_check_overrides_names_each_problem() -> None:
    release = release_of()
    other = "f" * 64
    overrides = TenantOverrides(
        parameters={"MemorySize": 1, "Nonsense": "x"},
        service_parameters={"orders": {"Unknown": "1"}, "workflows": {"X": "1"}},
        pins={"api": other, "orders": release.release_id},
    )
    problems = check_overrides(release, "free", overrides, {release.release_id: release})
    assert problems == [
        f"api is pinned to unknown release {other[:12]}",
        "parameter Nonsense is declared by none of the tenant's templates",
        "parameter Unknown is not declared by the template of orders",
        "parameters for workflows, which tier 'free' does not include",
    ]
    assert check_overrides(release, "free", TenantOverrides(), {}) == []


def test_service_names_must_fit_in_a_stack_name() -> None:
    data = spec_data()
    data["services"]["my_api"] = data["services"].pop("api")
    with pytest.raises(pydantic.ValidationError, match="service name 'my_api' is not valid"):
        FleetSpec.model_validate(data)
