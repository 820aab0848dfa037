"""The linter: grammar errors, statements that never match, type rules, risky patterns."""

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_support import ACCOUNT, allow, deny, doc

from stockade.policy.lint import Severity, lint_policy
from stockade.policy.model import PolicyType


def findings(document: Any, policy_type: PolicyType | None = None) -> list[tuple[str, str]]:
    text = document if isinstance(document, str) else json.dumps(document)
    report = lint_policy(text, policy_type=policy_type)
    return [(f.severity.value, f.message) for f in report.findings]


def errors(document: Any, policy_type: PolicyType | None = None) -> list[str]:
    return [m for s, m in findings(document, policy_type) if s == "error"]


def warnings(document: Any, policy_type: PolicyType | None = None) -> list[str]:
    return [m for s, m in findings(document, policy_type) if s == "warning"]


def test_a_clean_policy_has_no_findings() -> None:
    clean = doc(allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]))
    assert findings(clean) == []


def test_grammar_errors_are_one_finding_with_location() -> None:
    report = lint_policy(json.dumps(doc(allow(Sid="Bad", Condition={"StringEqualz": {"k": "v"}}))))
    assert [(f.severity, f.statement, f.sid, f.field) for f in report.findings] == [
        (Severity.ERROR, 0, "Bad", "Condition.StringEqualz.k")
    ]
    assert "unknown condition operator" in report.findings[0].message
    assert errors("{") and "not valid JSON" in errors("{")[0]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (allow([], "*"), "empty Action list"),
        (allow("s3:*", []), "empty Resource list"),
        (allow(None, "*", NotAction="*"), 'NotAction "*" excludes everything'),
        (deny("s3:*", None, NotResource=["*"]), 'NotResource "*" excludes everything'),
        (allow("s33:GetObject", "*"), "did you mean 's3'"),
        (allow("s3:GetObject", "arn:aws:ec2:*:*:instance/*"), "Resource ARNs are for ec2"),
        (
            allow(
                Condition={
                    "StringEquals": {"aws:PrincipalTag/team": "a"},
                    "StringNotEquals": {"aws:PrincipalTag/team": ["a", "b"]},
                }
            ),
            "can never hold",
        ),
        (
            allow(
                Condition={
                    "Bool": {"aws:SecureTransport": "true"},
                    "BoolIfExists": {"aws:SecureTransport": "false"},
                }
            ),
            "can never hold",
        ),
        (allow(Condition={"Null": {"k:x": "true"}, "StringLike": {"k:x": "a*"}}), "can never hold"),
        (
            allow(Condition={"NumericLessThan": {"k:n": "5"}, "NumericGreaterThan": {"k:n": "7"}}),
            "can never hold",
        ),
        (
            allow(
                Condition={
                    "DateGreaterThan": {"aws:CurrentTime": "2025-01-01T00:00:00Z"},
                    "DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
                }
            ),
            "can never hold",
        ),
        (allow("s3:*", None), "needs Resource"),
    ],
)
def test_statements_that_can_never_match_are_errors(
    statement: dict[str, Any], expected: str
) -> None:
    assert any(expected in message for message in errors(doc(statement))), findings(doc(statement))


def test_cross_service_resources_that_make_sense_are_not_flagged() -> None:
    assume = allow(
        "sts:AssumeRole",
        f"arn:aws:iam::{ACCOUNT}:role/deploy",
        Condition={"StringEquals": {"aws:PrincipalTag/t": "x"}},
    )
    assert errors(doc(assume)) == []


def test_non_contradictory_conditions_are_fine() -> None:
    ok = allow(
        "s3:GetObject",
        "arn:aws:s3:::b/*",
        Condition={
            "StringEquals": {"aws:PrincipalTag/team": "a"},
            "StringNotEquals": {"aws:PrincipalTag/team": "b"},
            "NumericLessThan": {"k:n": "7"},
            "NumericGreaterThan": {"k:n": "5"},
        },
    )
    assert errors(doc(ok)) == []


def test_duplicate_sids_and_type_rules() -> None:
    twice = doc(allow("s3:GetObject", "*", Sid="A"), deny("s3:PutObject", "*", Sid="A"))
    assert any("Sid 'A' is used by more than one" in m for m in errors(twice))
    with_principal = doc(
        allow(
            "s3:GetObject", "*", Principal="*", Condition={"Bool": {"aws:SecureTransport": "true"}}
        )
    )
    assert any("cannot have Principal" in m for m in errors(with_principal, PolicyType.IDENTITY))
    assert lint_policy(json.dumps(with_principal)).policy_type is PolicyType.RESOURCE
    no_principal = doc(allow("s3:GetObject", "*"))
    assert any("needs a Principal" in m for m in errors(no_principal, PolicyType.RESOURCE))
    assert any("cannot have Principal" in m for m in errors(with_principal, PolicyType.SCP))


def test_rcp_rules() -> None:
    allow_rcp = doc(allow("s3:GetObject", "*", Principal="*"))
    assert any("RCPs can only deny" in m for m in errors(allow_rcp, PolicyType.RCP))
    full = doc(allow("*", "*", Principal="*"))
    assert errors(full, PolicyType.RCP) == []
    named = doc(deny("s3:*", "*", Principal={"AWS": ACCOUNT}))
    assert any('Principal must be "*"' in m for m in errors(named, PolicyType.RCP))
    not_action = doc(deny(None, "*", NotAction="s3:*", Principal="*"))
    assert any("do not support NotAction" in m for m in errors(not_action, PolicyType.RCP))


def test_scp_size() -> None:
    big = doc(*(deny(f"s3:Action{i}", "*", Sid=f"Deny{i:04d}") for i in range(150)))
    assert any("over 5,120" in m for m in errors(big, PolicyType.SCP))
    roomy = doc(*(deny(f"s3:A{i}", "*") for i in range(60)))
    pretty = json.dumps(roomy, indent=8)
    assert errors(pretty, PolicyType.SCP) == []
    assert any("upload it minified" in m for m in warnings(pretty, PolicyType.SCP))
    assert findings(big, PolicyType.IDENTITY) == []  # no size rule for identity policies here


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (allow("*", "*"), "allows every action on every resource"),
        (allow("*:*", "arn:aws:s3:::b"), "allows every action"),
        (allow(None, "*", NotAction="iam:*"), "Allow with NotAction"),
        (allow("iam:PassRole", "*"), 'iam:PassRole on Resource "*"'),
        (
            allow(
                "iam:PassRole",
                "*",
                Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
            'on Resource "*"',
        ),
        (
            allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/x"),
            "sts:AssumeRole without a condition",
        ),
        (allow("organizations:*", "*"), "organizations:* without a condition"),
        (allow("kms:Decrypt", "*"), "kms:Decrypt without a condition"),
        (
            allow(
                "s3:GetObject", "*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}
            ),
            "ForAllValues is true when the key is missing",
        ),
        (
            allow("s3:GetObject", "arn:aws:s3:::b/*", Principal="*"),
            'Principal "*" is allowed without a condition',
        ),
        (
            allow("s3:GetObject", "arn:aws:s3:::b/*", NotPrincipal={"AWS": ACCOUNT}),
            "Allow with NotPrincipal",
        ),
        (deny("s3:*", "arn:aws:s3:::b/*", NotPrincipal={"AWS": ACCOUNT}), "Deny with NotPrincipal"),
        (allow("foosvc:GetThing", "*"), "unknown service prefix 'foosvc'"),
    ],
)
def test_risky_patterns_are_warnings(statement: dict[str, Any], expected: str) -> None:
    messages = warnings(doc(statement))
    assert any(expected in m for m in messages), findings(doc(statement))


def test_kms_decrypt_on_a_specific_key_is_not_flagged() -> None:
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"
    assert findings(doc(allow("kms:Decrypt", key))) == []


def test_missing_or_legacy_version_is_a_warning() -> None:
    assert any("no Version" in m for m in warnings(doc(allow("s3:GetObject", "*"), version=None)))
    assert any(
        "legacy Version" in m
        for m in warnings(doc(allow("s3:GetObject", "*"), version="2008-10-17"))
    )


def test_report_counts() -> None:
    report = lint_policy(json.dumps(doc(allow([], "*"), allow("*", "*"))))
    assert (report.errors, report.warnings) == (1, 1)
