"""Action and Resource matchers, and policy-string templates."""

from __future__ import annotations

import pytest

from stockade.policy.matching import ActionMatcher, ResourceMatcher
from stockade.policy.variables import STAR, Variable, parse_template


@pytest.mark.parametrize(
    ("patterns", "action", "expected"),
    [
        (("s3:GetObject",), "s3:getobject", True),
        (("S3:Get*",), "s3:getobjectacl", True),
        (("s3:*",), "s3:putobject", True),
        (("s3:*",), "s3express:createsession", False),
        (("*",), "anything:atall", True),
        (("iam:*AccessKey*",), "iam:createaccesskey", True),
        (("iam:Pass?ole",), "iam:passrole", True),
        (("iam:Pass?ole",), "iam:passsrole", False),
        (("ec2:Describe*", "s3:List*"), "s3:listbucket", True),
    ],
)
def test_actions(patterns: tuple[str, ...], action: str, expected: bool) -> None:
    assert ActionMatcher.compile(patterns, negated=False).matches(action) is expected
    assert ActionMatcher.compile(patterns, negated=True).matches(action) is not expected


def _resources(*patterns: str, negated: bool = False) -> ResourceMatcher:
    templates = tuple(parse_template(p, variables=True, wildcards=True) for p in patterns)
    return ResourceMatcher.compile(templates, negated=negated)


def test_resources_with_variables_resolve_per_request() -> None:
    matcher = _resources("arn:aws:s3:::home/${aws:username}/*")
    assert matcher.matches("arn:aws:s3:::home/ann/x", {"aws:username": "ann"})
    assert not matcher.matches("arn:aws:s3:::home/bob/x", {"aws:username": "ann"})
    assert not matcher.matches("arn:aws:s3:::home/ann/x", {})
    # an unresolved variable makes a NotResource statement not apply either
    assert not _resources("arn:aws:s3:::home/${aws:username}/*", negated=True).matches(
        "arn:aws:s3:::other", {}
    )


def test_resource_wildcards_do_not_cross_arn_components() -> None:
    matcher = _resources("arn:aws:sqs:*:123456789012:*")
    assert matcher.matches("arn:aws:sqs:eu-west-1:123456789012:q", {})
    assert not matcher.matches("arn:aws:sqs:eu-west-1:999999999999:123456789012:q", {})


def test_templates() -> None:
    assert parse_template("a*", variables=False, wildcards=True) == ("a", STAR)
    assert parse_template("${aws:username}", variables=False, wildcards=False) == (
        "${aws:username}",
    )
    tokens = parse_template("x/${aws:PrincipalTag/team, 'none'}", variables=True, wildcards=True)
    assert tokens == ("x/", Variable("aws:PrincipalTag/team", "aws:principaltag/team", "none"))
    assert parse_template("${*}${?}${$}", variables=True, wildcards=True) == ("*?$",)
