"""The decision algorithm beyond the documented examples: principals, accounts, explanations."""

from __future__ import annotations

import pytest
from policy_support import (
    ACCOUNT,
    ALLOW,
    EXPLICIT,
    FULL_ACCESS,
    IMPLICIT,
    OTHER,
    ROLE,
    SESSION,
    USER,
    allow,
    decide,
    deny,
    doc,
    kind,
)

from stockade.policy import principal_from_arn
from stockade.policy.request import PrincipalKind

KEY = "arn:aws:s3:::bucket/key"


def test_no_policies_is_an_implicit_deny_that_says_why() -> None:
    decision = decide()
    assert decision.kind is IMPLICIT
    assert [e.reason for e in decision.explanation] == [
        "no identity-based policy allows the request"
    ]


def test_explicit_deny_lists_every_matching_deny_and_nothing_else() -> None:
    decision = decide(
        identity=[doc(allow(), deny("s3:*", Sid="A")), doc(deny("s3:Get*", Sid="B"))],
        scps=[[FULL_ACCESS, doc(deny("s3:GetObject", Sid="C"))]],
        resource_policy=doc(deny("s3:*", KEY, Principal="*", Sid="D")),
    )
    assert decision.kind is EXPLICIT
    assert sorted((e.policy_type.value, e.sid) for e in decision.explanation) == [
        ("identity", "A"),
        ("identity", "B"),
        ("resource", "D"),
        ("scp", "C"),
    ]
    scp = next(e for e in decision.explanation if e.sid == "C")
    assert (scp.level, scp.policy_index, scp.statement_index) == (0, 1, 0)


def test_allow_explanation_names_policy_id_index_and_sid() -> None:
    policy = {
        "Version": "2012-10-17",
        "Id": "ReadOnly",
        "Statement": [allow("s3:Get*", Sid="Read")],
    }
    decision = decide(identity=[doc(allow("ec2:*")), policy], scps=[[FULL_ACCESS]])
    assert decision.kind is ALLOW
    by_type = {e.policy_type.value: e for e in decision.explanation}
    assert by_type["identity"].to_json() == {
        "policy_type": "identity",
        "level": None,
        "policy_index": 1,
        "policy_id": "ReadOnly",
        "statement_index": 0,
        "sid": "Read",
        "effect": "Allow",
        "reason": "allows",
    }
    assert by_type["scp"].level == 0


def test_missing_allows_are_all_reported() -> None:
    decision = decide(
        identity=[doc(allow("ec2:*"))],
        boundaries=[doc(allow("ec2:*"))],
        scps=[[doc(allow("ec2:*"))], [FULL_ACCESS]],
    )
    assert decision.kind is IMPLICIT
    assert {(e.policy_type.value, e.level) for e in decision.explanation} == {
        ("scp", 0),
        ("identity", None),
        ("permissions_boundary", None),
    }


def test_action_matching_is_case_insensitive_and_resources_case_sensitive() -> None:
    assert kind(action="S3:getobject", identity=[doc(allow("s3:GetObject"))]) is ALLOW
    assert kind(resource="arn:aws:s3:::Bucket/key", identity=[doc(allow("*", KEY))]) is IMPLICIT


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),
        ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/a", True),
        ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/ab", False),
        ("arn:aws:ec2:*:*:instance/*", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-1", True),
        ("arn:aws:ec2:*:*:instance/*", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/v-1", False),
        ("arn:aws:iam::*:role/*", f"arn:aws:iam::{ACCOUNT}:role/a/b", True),
        ("arn:aws:s3:*", "arn:aws:s3:::bucket/key", True),  # a trailing * spans the rest
        ("arn:aws:*:us-east-1:*:*", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q", False),
    ],
)
def test_resource_patterns(pattern: str, resource: str, expected: bool) -> None:
    assert (kind(resource=resource, identity=[doc(allow("*", pattern))]) is ALLOW) is expected


def test_not_action_and_not_resource() -> None:
    not_iam = doc(allow(None, "*", NotAction="iam:*"))
    assert kind(action="s3:GetObject", identity=[not_iam]) is ALLOW
    assert kind(action="iam:CreateUser", identity=[not_iam]) is IMPLICIT
    not_secret = doc(allow("s3:*", None, NotResource="arn:aws:s3:::secret/*"))
    assert kind(identity=[not_secret]) is ALLOW
    assert kind(resource="arn:aws:s3:::secret/x", identity=[not_secret]) is IMPLICIT


def test_same_account_resource_policy_naming_the_account_grants_nothing_alone() -> None:
    bucket = doc(allow("s3:GetObject", KEY, Principal={"AWS": ACCOUNT}))
    decision = decide(resource_policy=bucket)
    assert decision.kind is IMPLICIT
    assert any("delegates" in e.reason for e in decision.explanation)
    assert kind(resource_policy=bucket, identity=[doc(allow("s3:*"))]) is ALLOW


def test_resource_policy_deny_naming_the_account_applies_to_its_principals() -> None:
    bucket = doc(deny("s3:*", KEY, Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    assert kind(identity=[doc(allow())], resource_policy=bucket) is EXPLICIT


def test_cross_account_role_session_named_by_role_arn() -> None:
    role = f"arn:aws:iam::{OTHER}:role/reader"
    session = f"arn:aws:sts::{OTHER}:assumed-role/reader/s1"
    bucket = doc(allow("s3:GetObject", KEY, Principal={"AWS": role}))
    common = {"principal": session, "resource_account": ACCOUNT, "resource_policy": bucket}
    assert kind(**common, identity=[doc(allow("s3:*"))]) is ALLOW
    assert (
        kind(**common, identity=[doc(allow("s3:*"))], boundaries=[doc(allow("ec2:*"))]) is IMPLICIT
    )


def test_cross_account_scps_of_the_caller_apply() -> None:
    bucket = doc(allow("s3:GetObject", KEY, Principal={"AWS": OTHER}))
    common = {
        "principal": f"arn:aws:iam::{OTHER}:user/bob",
        "resource_account": ACCOUNT,
        "resource_policy": bucket,
        "identity": [doc(allow())],
    }
    assert kind(**common, scps=[[FULL_ACCESS]]) is ALLOW
    assert kind(**common, scps=[[doc(allow("ec2:*"))]]) is IMPLICIT


def test_resource_account_comes_from_the_arn_or_defaults_to_the_principal() -> None:
    queue = f"arn:aws:sqs:eu-west-1:{OTHER}:orders"
    assert kind(action="sqs:SendMessage", resource=queue, identity=[doc(allow())]) is IMPLICIT
    own = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders"
    assert kind(action="sqs:SendMessage", resource=own, identity=[doc(allow())]) is ALLOW


def test_service_and_anonymous_principals_need_the_resource_policy() -> None:
    bucket = doc(allow("s3:PutObject", KEY, Principal={"Service": "logging.s3.amazonaws.com"}))
    put = {"action": "s3:PutObject", "resource_policy": bucket}
    assert kind(principal="logging.s3.amazonaws.com", **put) is ALLOW
    assert kind(principal="lambda.amazonaws.com", **put) is IMPLICIT
    public = doc(allow("s3:GetObject", KEY, Principal="*"))
    assert kind(principal="*", resource_policy=public) is ALLOW
    assert kind(principal="*", identity=[doc(allow())]) is IMPLICIT
    # SCPs do not apply to service principals (they are not principals of a member account)
    assert kind(principal="logging.s3.amazonaws.com", scps=[[doc(deny())]], **put) is ALLOW


def test_principal_parsing() -> None:
    session = principal_from_arn(SESSION)
    assert session.kind is PrincipalKind.ROLE_SESSION
    assert session.entity_arn == ROLE
    assert principal_from_arn(ACCOUNT).kind is PrincipalKind.ROOT
    assert principal_from_arn(USER).kind is PrincipalKind.USER
    linked = principal_from_arn(f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/x.amazonaws.com/R")
    assert linked.service_linked
    with pytest.raises(ValueError):
        principal_from_arn(f"arn:aws:s3:::{ACCOUNT}")


def test_derived_context_keys() -> None:
    tagged = doc(
        allow(
            "s3:*",
            Condition={
                "ArnEquals": {"aws:PrincipalArn": ROLE},
                "StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:PrincipalTag/team": "a"},
                "Bool": {"aws:PrincipalIsAWSService": "false"},
            },
        )
    )
    assert kind(principal=SESSION, identity=[tagged], tags={"team": "a"}) is ALLOW
    assert kind(principal=SESSION, identity=[tagged], tags={"team": "b"}) is IMPLICIT
    # an explicit context value wins over the derived one
    other = {"aws:PrincipalAccount": OTHER}
    assert kind(principal=SESSION, identity=[tagged], tags={"team": "a"}, context=other) is IMPLICIT


def test_multiple_boundaries_and_session_policies_are_each_a_union() -> None:
    identity = [doc(allow())]
    boundaries = [doc(allow("s3:*")), doc(allow("ec2:*"))]
    assert kind(principal=SESSION, identity=identity, boundaries=boundaries) is ALLOW
    assert (
        kind(
            principal=SESSION,
            identity=identity,
            session=[doc(allow("ec2:*")), doc(allow("s3:Get*"))],
        )
        is ALLOW
    )


def test_empty_scp_level_denies() -> None:
    assert kind(identity=[doc(allow())], scps=[[FULL_ACCESS], []]) is IMPLICIT
