"""Condition operators: every family, IfExists, set qualifiers, Null, variables, missing keys."""

from __future__ import annotations

from typing import Any

import pytest
from policy_support import condition_holds

K = "k:key"


@pytest.mark.parametrize(
    ("operator", "policy", "value", "expected"),
    [
        ("StringEquals", "Abc", "Abc", True),
        ("StringEquals", "Abc", "abc", False),
        ("StringEquals", "a*", "abc", False),  # no wildcards in StringEquals
        ("StringNotEquals", "Abc", "abc", True),
        ("StringEqualsIgnoreCase", "Abc", "aBC", True),
        ("StringNotEqualsIgnoreCase", "Abc", "aBC", False),
        ("StringLike", "a*c", "abbbc", True),
        ("StringLike", "a?c", "abc", True),
        ("StringLike", "a?c", "abbc", False),
        ("StringLike", "A*", "abc", False),  # case-sensitive
        ("StringNotLike", "a*", "xyz", True),
        ("NumericEquals", "5", "5.0", True),
        ("NumericNotEquals", "5", "6", True),
        ("NumericLessThan", "5", "4.5", True),
        ("NumericLessThan", "5", "5", False),
        ("NumericLessThanEquals", "5", "5", True),
        ("NumericGreaterThan", "5", "6", True),
        ("NumericGreaterThanEquals", "5", "4", False),
        ("NumericEquals", "5", "five", False),
        ("DateLessThan", "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z", True),
        ("DateGreaterThan", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+00:00", True),
        ("DateEquals", "2024-01-01T00:00:00Z", "1704067200", True),  # epoch seconds
        ("DateEquals", "2024-01-01", "2024-01-01T00:00:00Z", True),
        ("DateLessThanEquals", "1704067200", "2024-01-01T00:00:00Z", True),
        ("DateNotEquals", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", True),
        ("DateGreaterThanEquals", "2024-01-01T00:00:00Z", "not a date", False),
        ("Bool", "true", "true", True),
        ("Bool", "true", "false", False),
        ("Bool", "TRUE", "True", True),
        ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", True),
        ("BinaryEquals", "QmluYXJ5", "Binary", True),
        ("BinaryEquals", "QmluYXJ5", "Other", False),
        ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
        ("IpAddress", "10.0.0.1", "10.0.0.1", True),
        ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
        ("IpAddress", "10.0.0.0/8", "2001:db8::1", False),
        ("NotIpAddress", "10.0.0.0/8", "192.0.2.1", True),
        ("IpAddress", "10.0.0.0/8", "garbage", False),
        (
            "ArnEquals",
            "arn:aws:sns:*:123456789012:topic",
            "arn:aws:sns:eu-west-1:123456789012:topic",
            True,
        ),
        ("ArnLike", "arn:aws:iam::*:role/app-?", "arn:aws:iam::123456789012:role/app-1", True),
        ("ArnLike", "arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:user/x", False),
        ("ArnLike", "arn:aws:iam::*:role/*", "not-an-arn", False),
        ("ArnNotLike", "arn:aws:iam::*:role/admin", "arn:aws:iam::123456789012:role/app", True),
        (
            "ArnNotEquals",
            "arn:aws:iam::*:role/admin",
            "arn:aws:iam::123456789012:role/admin",
            False,
        ),
    ],
)
def test_operator(operator: str, policy: str, value: str, expected: bool) -> None:
    assert condition_holds({operator: {K: policy}}, {K: value}) is expected


def test_json_booleans_and_numbers_in_policies_and_contexts() -> None:
    assert condition_holds({"Bool": {K: True}}, {K: True})
    assert condition_holds({"NumericLessThan": {K: 10}}, {K: 3})
    assert condition_holds({"StringEquals": {K: 3}}, {K: "3"})


def test_condition_keys_are_case_insensitive() -> None:
    assert condition_holds({"StringEquals": {"AWS:SourceVpc": "vpc-1"}}, {"aws:sourcevpc": "vpc-1"})


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringNotEquals", True),
        ("StringLike", False),
        ("StringNotLike", True),
        ("NumericLessThan", False),
        ("NumericNotEquals", True),
        ("NotIpAddress", True),
        ("ArnNotLike", True),
        ("StringEqualsIfExists", True),
        ("StringNotEqualsIfExists", True),
        ("NumericGreaterThanIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAllValues:StringNotEquals", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAnyValue:StringNotEquals", False),
        ("ForAnyValue:StringEqualsIfExists", True),
    ],
)
def test_missing_key(operator: str, expected: bool) -> None:
    value = "10.0.0.0/8" if "Ip" in operator else "1"
    if operator.startswith("Arn"):
        value = "arn:aws:iam::*:role/x"
    assert condition_holds({operator: {K: value}}) is expected


def test_if_exists_checks_present_keys() -> None:
    assert not condition_holds({"StringEqualsIfExists": {K: "a"}}, {K: "b"})
    assert condition_holds({"StringEqualsIfExists": {K: "a"}}, {K: "a"})


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"Null": {K: "true"}}, {}, True),
        ({"Null": {K: "true"}}, {K: "x"}, False),
        ({"Null": {K: "false"}}, {K: "x"}, True),
        ({"Null": {K: "false"}}, {}, False),
        ({"Null": {K: "true"}}, {K: []}, True),
        ({"Null": {K: False}}, {K: ["a"]}, True),
    ],
)
def test_null(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert condition_holds(condition, context) is expected


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False),
        ("ForAllValues:StringEquals", ["a", "b"], [], True),
        ("ForAllValues:StringNotEquals", ["a", "b"], ["c", "d"], True),
        ("ForAllValues:StringNotEquals", ["a", "b"], ["c", "a"], False),
        ("ForAnyValue:StringEquals", ["a", "b"], ["c", "b"], True),
        ("ForAnyValue:StringEquals", ["a", "b"], ["c", "d"], False),
        ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "c"], True),
        ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "b"], False),
        ("ForAnyValue:StringLike", ["a*"], ["xyz", "abc"], True),
        ("ForAllValues:StringEquals", ["a"], "a", True),  # a single value is a one-element set
        # a multivalued key under a plain operator: any value matches / none matches
        ("StringEquals", ["a"], ["b", "a"], True),
        ("StringNotEquals", ["a"], ["b", "a"], False),
        ("StringNotEquals", ["a"], ["b", "c"], True),
    ],
)
def test_set_operators(operator: str, values: list[str], context: Any, expected: bool) -> None:
    assert condition_holds({operator: {K: values}}, {K: context}) is expected


def test_variables_in_condition_values() -> None:
    condition = {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}
    from policy_support import ACCOUNT, ALLOW, decide, doc
    from policy_support import allow as allow_stmt

    david = f"arn:aws:iam::{ACCOUNT}:user/David"
    policy = doc(allow_stmt("s3:ListBucket", "arn:aws:s3:::b", Condition=condition))
    yes = decide(
        david,
        "s3:ListBucket",
        "arn:aws:s3:::b",
        identity=[policy],
        context={"s3:prefix": "David/x"},
    )
    no = decide(
        david, "s3:ListBucket", "arn:aws:s3:::b", identity=[policy], context={"s3:prefix": "Eve/x"}
    )
    assert yes.kind is ALLOW
    assert no.kind is not ALLOW


def test_unresolved_variable_makes_the_condition_false_even_when_negated() -> None:
    assert not condition_holds({"StringNotEquals": {K: "${aws:PrincipalTag/none}"}}, {K: "x"})
    assert condition_holds({"StringEquals": {K: "${aws:PrincipalTag/none, 'dflt'}"}}, {K: "dflt"})
    assert condition_holds({"StringEquals": {K: "${k:other}"}}, {K: "v", "k:other": "v"})


def test_special_variables_are_literal_characters() -> None:
    assert condition_holds({"StringLike": {K: "a${*}"}}, {K: "a*"})
    assert not condition_holds({"StringLike": {K: "a${*}"}}, {K: "abc"})
    assert condition_holds({"StringEquals": {K: "cost${$}"}}, {K: "cost$"})
    assert condition_holds({"StringLike": {K: "${?}*"}}, {K: "?x"})
