"""Parsing: AWS grammar accepted in all its forms; every bad policy is one clear PolicyError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_support import ALLOW, allow, doc, kind

from stockade.domain.errors import ValidationError
from stockade.policy import PolicyCache, parse_policy
from stockade.policy.errors import PolicyError


def test_statement_may_be_one_object_and_elements_single_strings() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": allow("s3:GetObject")})
    assert len(policy.statements) == 1
    assert kind(identity=[{"Statement": allow("s3:GetObject", "*")}]) is ALLOW


def test_text_and_object_give_the_same_policy() -> None:
    document = doc(allow("s3:*"), {"Sid": "X", **allow("ec2:*")})
    from_text = parse_policy(json.dumps(document, indent=2))
    from_object = parse_policy(document)
    assert [s.sid for s in from_text.statements] == [s.sid for s in from_object.statements]
    assert from_text.source_chars == from_object.source_chars  # whitespace is not counted


def test_policy_error_is_a_validation_error_with_code_and_hint() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("{not json")
    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.code == "STK-1150"
    assert "not valid JSON" in error.message and "line 1" in error.message
    assert error.hint


def _problem(document: Any) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document)
    return caught.value.message


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], "a policy must be a JSON object"),
        ({"Version": "2012-10-17"}, "needs a Statement"),
        ({"Statement": []}, "Statement is an empty list"),
        ({"Statement": [allow()], "Extra": 1}, "unknown top-level element 'Extra'"),
        ({"Version": "2020-01-01", "Statement": [allow()]}, "Version must be"),
        (doc(allow(), "nope"), "statement 1: a statement must be a JSON object"),
        (
            doc({"Sid": "S", "Effect": "allow", "Action": "*"}),
            "statement 0 (Sid 'S'), field 'Effect'",
        ),
        (doc({"Effect": "Allow", "Resource": "*"}), "needs Action or NotAction"),
        (doc(allow(NotAction="s3:*")), "both Action and NotAction"),
        (doc(allow(NotResource="*")), "both Resource and NotResource"),
        (doc(allow(Principal="*", NotPrincipal="*")), "both Principal and NotPrincipal"),
        (doc(allow(Bogus=1)), "unknown element 'Bogus'"),
        (doc(allow("s3GetObject")), "field 'Action': 's3GetObject' is not an action"),
        (doc(allow(["s3:Get", 5])), "field 'Action': must be a string"),
        (doc(allow("*", "bucket/key")), "field 'Resource': 'bucket/key' is not an ARN"),
        (doc(allow("*", "arn:aws:s3")), "is not an ARN"),
        (doc(allow(Principal={"AWS": "arn:aws:iam::*:role/x"})), "cannot use wildcards"),
        (doc(allow(Principal={"AWS": "bob"})), "is not an account id or principal ARN"),
        (doc(allow(Principal={"Person": "x"})), "unknown principal type 'Person'"),
        (doc(allow(Principal="everyone")), 'must be "*" or an object'),
        (
            doc(allow(Condition={"StringEqualz": {"k": "v"}})),
            "unknown condition operator 'StringEqualz'",
        ),
        (doc(allow(Condition={"ForSomeValues:StringEquals": {"k": "v"}})), "unknown set operator"),
        (doc(allow(Condition={"NullIfExists": {"k": "true"}})), "Null cannot take IfExists"),
        (doc(allow(Condition={"NumericLessThan": {"k": "ten"}})), "'ten' is not a number"),
        (doc(allow(Condition={"DateLessThan": {"k": "yesterday"}})), "is not an ISO 8601 date"),
        (doc(allow(Condition={"Bool": {"k": "yes"}})), "'yes' is not true or false"),
        (
            doc(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}})),
            "not an IP address",
        ),
        (doc(allow(Condition={"BinaryEquals": {"k": "%%%"}})), "is not base64"),
        (doc(allow(Condition={"StringEquals": {"k": []}})), "at least one value"),
        (doc(allow(Condition={"StringEquals": {"k": {"nested": 1}}})), "is not a string, number"),
        (doc(allow(Condition={"StringEquals": "k"})), "must be an object of condition keys"),
        (doc(allow(Condition=["x"])), "Condition must be an object"),
        (doc(allow("*", "arn:aws:s3:::${bad var}")), "is not a policy variable"),
    ],
)
def test_bad_policies_name_where(document: Any, expected: str) -> None:
    assert expected in _problem(document)


def test_condition_errors_name_the_operator_and_key() -> None:
    message = _problem(doc(allow(Sid="Tls", Condition={"Bool": {"aws:SecureTransport": "maybe"}})))
    assert message.startswith("statement 0 (Sid 'Tls'), field 'Condition.Bool.aws:SecureTransport'")


def test_unknown_operator_suggests_the_right_one() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(doc(allow(Condition={"StringEqualsIgnorecase ": {"k": "v"}})))
    assert "did you mean" in caught.value.hint


def test_duplicate_json_keys_are_refused() -> None:
    text = '{"Statement": {"Effect": "Allow", "Action": "s3:*", "Action": "ec2:*"}}'
    assert "key 'Action' appears twice" in _problem(text)


def test_cache_compiles_each_text_once_and_labels_errors() -> None:
    cache = PolicyCache()
    document = doc(allow("s3:*"))
    first = cache.get(document)
    assert cache.get(json.loads(json.dumps(document))) is first
    assert len(cache) == 1
    with pytest.raises(PolicyError) as caught:
        cache.get(doc(allow("nope")), label="identity_policies[2]")
    assert caught.value.message.startswith("identity_policies[2], statement 0")
