"""Wave planning (partition, canaries first, cumulative shares, determinism), failure tolerance,
the spec's wave validation and jitter."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.domain.errors import ValidationError
from stockade.domain.spec import Rollout, Wave
from stockade.domain.waves import (
    WaveTenant,
    jitter_delay,
    parse_tolerance,
    plan_waves,
    tolerance_exceeded,
)

SPEC_WAVES = (
    Wave(name="canary", selector={"canary": "true"}, max_concurrency=5),
    Wave(name="early", percent=10, failure_tolerance=1),
    Wave(name="half", percent=50, failure_tolerance="2%"),
    Wave(name="everyone", percent=100, failure_tolerance="2%"),
)

tenant_ids = st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True)


@st.composite
def fleets(draw: st.DrawFn) -> list[WaveTenant]:
    ids = draw(st.lists(tenant_ids, unique=True, max_size=60))
    return [
        WaveTenant(
            tenant_id,
            draw(
                st.dictionaries(
                    st.sampled_from(["canary", "region"]), st.sampled_from(["true", "eu"])
                )
            ),
        )
        for tenant_id in ids
    ]


@st.composite
def wave_lists(draw: st.DrawFn) -> list[Wave]:
    waves = [
        Wave(name=f"canary{i}", selector={key: value})
        for i, (key, value) in enumerate(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(["canary", "region"]), st.sampled_from(["true", "eu"])
                    ),
                    max_size=2,
                )
            )
        )
    ]
    percents = sorted(draw(st.lists(st.floats(min_value=0.5, max_value=100), max_size=4)))
    waves += [Wave(name=f"p{i}", percent=p) for i, p in enumerate([*percents, 100])]
    return waves


def matches(tenant: WaveTenant, wave: Wave) -> bool:
    return all(tenant.labels.get(k) == v for k, v in wave.selector.items())


@given(fleets(), wave_lists())
def test_every_tenant_is_in_exactly_one_wave(fleet: list[WaveTenant], waves: list[Wave]) -> None:
    plans = plan_waves(fleet, waves)
    assigned = [tenant_id for plan in plans for tenant_id in plan.tenant_ids]
    assert sorted(assigned) == sorted(t.id for t in fleet)
    assert all(plan.size > 0 for plan in plans)
    assert [p.index for p in plans] == sorted({p.index for p in plans})


@given(fleets(), wave_lists())
def test_canaries_come_first(fleet: list[WaveTenant], waves: list[Wave]) -> None:
    plans = plan_waves(fleet, waves)
    first = waves[0]
    if first.selector:
        expected = {t.id for t in fleet if matches(t, first)}
        got = {tid for p in plans if p.index == 0 for tid in p.tenant_ids}
        assert got == expected
    by_id = {t.id: t for t in fleet}
    for plan in plans:
        wave = waves[plan.index]
        if wave.selector:
            assert all(matches(by_id[tid], wave) for tid in plan.tenant_ids)


@given(fleets(), wave_lists())
def test_percent_waves_are_cumulative_shares_of_the_whole_fleet(
    fleet: list[WaveTenant], waves: list[Wave]
) -> None:
    plans = {p.index: p for p in plan_waves(fleet, waves)}
    reached = 0
    for index, wave in enumerate(waves):
        size = plans[index].size if index in plans else 0
        before = reached
        reached += size
        if wave.percent is not None:
            target = math.ceil(Fraction(str(wave.percent)) * len(fleet) / 100)
            assert reached == max(before, target)


@given(fleets(), wave_lists(), st.randoms())
def test_waves_are_deterministic_whatever_the_input_order(
    fleet: list[WaveTenant], waves: list[Wave], rnd: random.Random
) -> None:
    shuffled = list(fleet)
    rnd.shuffle(shuffled)
    assert plan_waves(shuffled, waves) == plan_waves(fleet, waves)


def test_the_reference_rollout() -> None:
    fleet = [WaveTenant(f"t{i:03d}", {"canary": "true"} if i < 3 else {}) for i in range(200)]
    plans = plan_waves(fleet, SPEC_WAVES)
    assert [(p.name, p.size) for p in plans] == [
        ("canary", 3),
        ("early", 17),
        ("half", 80),
        ("everyone", 100),
    ]
    assert set(plans[0].tenant_ids) == {"t000", "t001", "t002"}
    assert (plans[0].max_concurrency, plans[2].failure_tolerance) == (5, "2%")
    # hash order, not input order
    assert list(plans[1].tenant_ids) != sorted(plans[1].tenant_ids)


def test_empty_waves_are_dropped_and_indices_kept() -> None:
    fleet = [WaveTenant("a"), WaveTenant("b")]
    plans = plan_waves(fleet, SPEC_WAVES)
    # no canary; 10 % of 2 is 1 tenant; 50 % is reached already
    assert [(p.index, p.name, p.size) for p in plans] == [(1, "early", 1), (3, "everyone", 1)]
    assert plan_waves([], SPEC_WAVES) == []


def test_a_different_seed_gives_a_different_order() -> None:
    fleet = [WaveTenant(f"t{i}") for i in range(50)]
    waves = [Wave(name="all", percent=100)]
    assert plan_waves(fleet, waves, seed="a") != plan_waves(fleet, waves, seed="b")


def test_bad_inputs() -> None:
    with pytest.raises(ValidationError, match="twice"):
        plan_waves([WaveTenant("a"), WaveTenant("a")], SPEC_WAVES)
    with pytest.raises(ValidationError, match="in no wave"):
        plan_waves([WaveTenant("a")], [Wave(name="c", selector={"canary": "true"})])


@pytest.mark.parametrize(
    ("failures", "size", "tolerance", "exceeded"),
    [
        (0, 10, 0, False),
        (1, 10, 0, True),
        (1, 10, 1, False),
        (2, 10, "1", True),
        (5, 50, "10%", False),
        (6, 50, "10%", True),
        (1, 10, "2%", True),
        (0, 10, "2%", False),
        (1, 40, "2.5%", False),
        (2, 40, "2.5%", True),
        (10, 10, "100%", False),
        (0, 0, "0%", False),
    ],
)
def test_tolerance(failures: int, size: int, tolerance: int | str, exceeded: bool) -> None:
    assert tolerance_exceeded(failures, size, tolerance) is exceeded


@pytest.mark.parametrize("bad", ["ten", "10 %%", "-1", "101%", "%", "", -1, "1.5"])
def test_invalid_tolerances_are_refused(bad: int | str) -> None:
    with pytest.raises(ValueError, match="failure_tolerance"):
        parse_tolerance(bad)


def test_wave_plan_applies_its_tolerance() -> None:
    fleet = [WaveTenant(f"t{i}") for i in range(100)]
    [plan] = plan_waves(fleet, [Wave(name="all", percent=100, failure_tolerance="5%")])
    assert not plan.tolerance_exceeded(5)
    assert plan.tolerance_exceeded(6)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x"}, "needs a percent or a selector"),
        ({"name": "x", "percent": 10, "selector": {"a": "b"}}, "cannot both be set"),
        ({"name": "x", "percent": 0}, "more than 0"),
        ({"name": "x", "percent": 120}, "at most 100"),
        ({"name": "x", "percent": 10, "failure_tolerance": "lots"}, "neither a count"),
        ({"name": "x", "percent": 10, "max_concurrency": 0}, "greater than or equal to 1"),
    ],
)
def test_the_spec_refuses_bad_waves(fields: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        Wave.model_validate(fields)


@pytest.mark.parametrize(
    ("percents", "message"),
    [
        ([10, 50], "must end with a wave of percent: 100"),
        ([50, 10, 100], "must not shrink"),
    ],
)
def test_the_spec_refuses_waves_that_miss_tenants(percents: list[int], message: str) -> None:
    waves = [{"name": f"w{i}", "percent": p} for i, p in enumerate(percents)]
    with pytest.raises(pydantic.ValidationError, match=message):
        Rollout.model_validate({"waves": waves})
    with pytest.raises(pydantic.ValidationError, match="distinct names"):
        Rollout.model_validate({"waves": [{"name": "a", "percent": 100}] * 2})


@given(tenant_ids, st.text(max_size=20), st.floats(min_value=0, max_value=1e6))
def test_jitter_is_within_bounds_and_deterministic(
    tenant_id: str, rollout_id: str, max_seconds: float
) -> None:
    delay = jitter_delay(tenant_id, rollout_id, max_seconds)
    assert delay == jitter_delay(tenant_id, rollout_id, max_seconds)
    assert 0 <= delay <= max_seconds
    assert delay < max_seconds or max_seconds == 0


def test_jitter_spreads_the_fleet() -> None:
    delays = [jitter_delay(f"t{i}", "r1", 60.0) for i in range(1000)]
    assert min(delays) < 1.0 and max(delays) > 59.0
    assert len({round(d, 3) for d in delays}) > 990
    buckets = [0] * 6
    for d in delays:
        buckets[int(d // 10)] += 1
    assert all(120 < b < 220 for b in buckets)
    # another rollout spreads the same tenants differently
    assert [jitter_delay(f"t{i}", "r2", 60.0) for i in range(10)] != delays[:10]


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_jitter_refuses_bad_bounds(bad: float) -> None:
    with pytest.raises(ValueError, match="max_seconds"):
        jitter_delay("t", "r", bad)
