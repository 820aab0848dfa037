"""Properties of the evaluator that hold for every policy combination (hypothesis).

* adding an explicit Deny statement never turns a denied request into an allowed one, and a
  Deny that matches always wins;
* the order of statements, and of policies within a type, never changes the decision;
* SCPs and RCPs never grant: adding them never turns a denied request into an allowed one;
* a permissions boundary and a session policy can only restrict (for users and role sessions;
  an IAM federated user session gets its permissions only through a session policy).
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_support import ACCOUNT, ALLOW, EXPLICIT, OTHER_USER, SESSION, USER, decide, doc

ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "ec2:RunInstances", "iam:PassRole"]
ACTION_PATTERNS = [*ACTIONS, "s3:*", "s3:Get*", "*", "ec2:*", "iam:Pass?ole", "s3:*Object"]
RESOURCES = [
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b",
    f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1",
]
RESOURCE_PATTERNS = [*RESOURCES, "*", "arn:aws:s3:::b/*", "arn:aws:s3:::?", "arn:aws:ec2:*:*:*"]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:PrincipalTag/team": "a"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": ["a", "b"]}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"ForAllValues:StringEquals": {"k:tags": ["x", "y"]}},
    {"ForAnyValue:StringLike": {"k:tags": "x*"}},
    {"NumericLessThan": {"k:n": "5"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringLikeIfExists": {"k:name": "t2.*"}},
    {"Null": {"k:n": "true"}},
]
PRINCIPALS = ["*", {"AWS": ACCOUNT}, {"AWS": USER}, {"AWS": SESSION}, {"AWS": OTHER_USER}]

contexts = st.fixed_dictionaries(
    {},
    optional={
        "aws:SecureTransport": st.booleans(),
        "k:tags": st.lists(st.sampled_from(["x", "y", "z", "xx"]), max_size=3),
        "k:n": st.integers(0, 9),
        "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
        "k:name": st.sampled_from(["t2.micro", "m5.large"]),
    },
)


@st.composite
def statements(
    draw: st.DrawFn, *, effect: str | None = None, principal: bool = False
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": effect or draw(st.sampled_from(["Allow", "Deny"])),
        "Action": draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2)),
        "Resource": draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)),
    }
    if draw(st.booleans()):
        statement["Condition"] = draw(st.sampled_from(CONDITIONS))
    if principal:
        statement["Principal"] = draw(st.sampled_from(PRINCIPALS))
    return statement


def policies(*, principal: bool = False, effect: str | None = None) -> st.SearchStrategy[Any]:
    return st.lists(statements(effect=effect, principal=principal), min_size=1, max_size=3).map(
        lambda items: doc(*items)
    )


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "principal": draw(st.sampled_from([USER, SESSION, OTHER_USER])),
        "action": draw(st.sampled_from(ACTIONS)),
        "resource": draw(st.sampled_from(RESOURCES)),
        "context": draw(contexts),
        "tags": draw(st.sampled_from([None, {"team": "a"}, {"team": "c"}])),
        "identity": draw(st.lists(policies(), max_size=2)),
        "resource_policy": draw(st.none() | policies(principal=True)),
        "boundaries": draw(st.lists(policies(), max_size=1)),
        "session": draw(st.lists(policies(), max_size=1)),
        "scps": draw(st.lists(st.lists(policies(), min_size=1, max_size=2), max_size=2)),
        "rcps": draw(
            st.lists(st.lists(policies(effect="Deny", principal=True), max_size=1), max_size=2)
        ),
    }


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    scenarios(),
    policies(effect="Deny"),
    st.sampled_from(["identity", "boundaries", "session", "scps"]),
)
def test_adding_a_deny_never_allows(scenario: dict[str, Any], extra: Any, where: str) -> None:
    before = decide(**scenario).kind
    changed = dict(scenario)
    if where == "scps":
        levels = scenario["scps"]
        changed["scps"] = [*levels[:-1], [*levels[-1], extra]] if levels else []
    else:
        changed[where] = [*scenario[where], extra]
    after = decide(**changed).kind
    if before is not ALLOW:
        assert after is not ALLOW
    if before is EXPLICIT:
        assert after is EXPLICIT


@PROPERTY
@given(scenarios())
def test_a_matching_unconditional_deny_always_wins(scenario: dict[str, Any]) -> None:
    everything = doc({"Effect": "Deny", "Action": "*", "Resource": "*", "Sid": "DenyAll"})
    changed = {**scenario, "identity": [*scenario["identity"], everything]}
    decision = decide(**changed)
    assert decision.kind is EXPLICIT
    assert all(e.effect is not None and e.effect.value == "Deny" for e in decision.explanation)


def _shuffled(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    items = list(document["Statement"])
    rng.shuffle(items)
    return {**document, "Statement": items}


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_statement_and_policy_order_never_matters(
    scenario: dict[str, Any], rng: random.Random
) -> None:
    before = decide(**scenario)
    shuffled: dict[str, Any] = dict(scenario)
    for key in ("identity", "boundaries", "session"):
        items = [_shuffled(p, rng) for p in scenario[key]]
        rng.shuffle(items)
        shuffled[key] = items
    if scenario["resource_policy"]:
        shuffled["resource_policy"] = _shuffled(scenario["resource_policy"], rng)
    shuffled["scps"] = [[_shuffled(p, rng) for p in level] for level in scenario["scps"]]
    after = decide(**shuffled)
    assert after.kind is before.kind
    assert {(e.policy_type, e.effect, e.level) for e in after.explanation} == {
        (e.policy_type, e.effect, e.level) for e in before.explanation
    }


@PROPERTY
@given(scenarios())
def test_scps_and_rcps_never_grant(scenario: dict[str, Any]) -> None:
    governed = decide(**scenario).kind
    ungoverned = decide(**{**scenario, "scps": [], "rcps": []}).kind
    if governed is ALLOW:
        assert ungoverned is ALLOW


@PROPERTY
@given(scenarios())
def test_boundaries_and_session_policies_only_restrict(scenario: dict[str, Any]) -> None:
    limited = decide(**scenario).kind
    unlimited = decide(**{**scenario, "boundaries": [], "session": []}).kind
    if limited is ALLOW:
        assert unlimited is ALLOW
