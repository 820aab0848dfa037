"""The JSON-lines batch: liberal input, one output line per request, errors per line."""

from __future__ import annotations

import json
from typing import Any

from policy_support import ACCOUNT, FULL_ACCESS, SESSION, USER, allow, deny, doc

from stockade.domain.quotas import OrganizationLimits
from stockade.policy.simulate import simulate_lines

REQUEST = {"principal": USER, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}


def run(*lines: Any, limits: OrganizationLimits | None = None) -> list[dict[str, Any]]:
    texts = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    kwargs = {"limits": limits} if limits else {}
    return [json.loads(r.line) for r in simulate_lines(texts, **kwargs)]


def test_one_decision_per_line_with_ids_and_explanations() -> None:
    out = run(
        {"id": "a", "request": REQUEST, "identity_policies": [doc(allow("s3:*"))]},
        {"id": 2, "request": REQUEST},
        {
            "id": "c",
            "request": REQUEST,
            "identity_policies": [doc(allow(), deny("s3:Get*", Sid="No"))],
        },
    )
    assert [(o["id"], o["decision"]) for o in out] == [
        ("a", "allow"),
        (2, "implicit_deny"),
        ("c", "explicit_deny"),
    ]
    assert out[2]["explanation"][0]["sid"] == "No"
    assert set(out[0]["explanation"][0]) == {
        "policy_type",
        "level",
        "policy_index",
        "policy_id",
        "statement_index",
        "sid",
        "effect",
        "reason",
    }


def test_policies_as_strings_single_policies_and_flat_scp_lists() -> None:
    line = {
        "id": 1,
        "request": REQUEST,
        "identity_policies": json.dumps(doc(allow("s3:*"))),
        "scps": [FULL_ACCESS, json.dumps(doc(deny("ec2:*")))],  # one level
        "rcps": [],
        "comment": "ignored",
    }
    assert run(line)[0]["decision"] == "allow"


def test_scp_levels_and_management_account_flag() -> None:
    line = {
        "id": 1,
        "request": REQUEST,
        "identity_policies": [doc(allow())],
        "scps": [[FULL_ACCESS], [doc(allow("ec2:*"))]],
    }
    out = run(line, {**line, "is_management_account": True})
    assert out[0]["decision"] == "implicit_deny"
    assert out[0]["explanation"][0]["level"] == 1
    assert out[1]["decision"] == "allow"


def test_principal_object_with_tags_and_resource_policy() -> None:
    line = {
        "id": 1,
        "request": {
            "principal": {"arn": SESSION, "tags": {"team": "a"}},
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/a/k",
        },
        "resource_policy": doc(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::b/${aws:PrincipalTag/team}/*",
                Principal={"AWS": SESSION},
            )
        ),
    }
    assert run(line)[0]["decision"] == "allow"


def test_bad_lines_give_error_lines_and_the_rest_is_evaluated() -> None:
    good = {"id": "ok", "request": REQUEST, "identity_policies": [doc(allow())]}
    bad_policy = {
        "id": "bad",
        "request": REQUEST,
        "scps": [
            [FULL_ACCESS],
            [doc(allow(), deny(Sid="X", Condition={"StringEqualz": {"k": "v"}}))],
        ],
    }
    out = run(good, "not json", bad_policy, {"id": "noreq"}, good, "   ")
    assert [o.get("decision") for o in out] == ["allow", None, None, None, "allow"]
    assert out[1]["error"]["code"] == "STK-1151" and out[1]["id"] is None
    error = out[2]["error"]
    assert error["code"] == "STK-1150"
    assert error["message"].startswith(
        "scps[1][0], statement 1 (Sid 'X'), field 'Condition.StringEqualz.k'"
    )
    assert "unknown condition operator" in error["message"]
    assert out[2]["id"] == "bad" and out[2]["line"] == 3
    assert out[3]["error"]["code"] == "STK-1151"


def test_request_shape_errors() -> None:
    cases = [
        {"id": 1, "request": {"principal": USER}},
        {"id": 2, "request": {"principal": "bob", "action": "s3:GetObject"}},
        {"id": 3, "request": {**REQUEST, "context": ["x"]}},
        {"id": 4, "request": {**REQUEST, "context": {"k": {"nested": 1}}}},
        {"id": 5, "request": REQUEST, "identity_policies": [1]},
        {"id": 6, "request": REQUEST, "scps": [[FULL_ACCESS], FULL_ACCESS]},
    ]
    out = run(*cases)
    assert all("error" in o for o in out)
    assert [o["id"] for o in out] == [1, 2, 3, 4, 5, 6]


def test_oversized_and_too_many_scps_are_errors() -> None:
    big = doc(*(deny(f"s3:Action{i}", Sid=f"Deny{i:04d}") for i in range(100)))
    assert len(json.dumps(big, separators=(",", ":"))) > 5120
    line = {"id": 1, "request": REQUEST, "scps": [[FULL_ACCESS, big]]}
    error = run(line)[0]["error"]
    assert error["code"] == "STK-1152"
    assert error["message"].startswith("scps[0][1]: the SCP is")
    raised = OrganizationLimits(scp_max_chars=10_240)
    assert "decision" in run(line, limits=raised)[0]
    six = {"id": 2, "request": REQUEST, "scps": [[FULL_ACCESS] * 6]}
    assert "6 SCPs are attached to one target" in run(six)[0]["error"]["message"]


def test_whitespace_outside_strings_does_not_count_toward_the_size() -> None:
    policy = doc(*(deny(f"s3:A{i}") for i in range(60)))
    pretty = json.dumps(policy, indent=8)
    assert len(pretty) > 5120 > len(json.dumps(policy, separators=(",", ":")))
    line = {
        "id": 1,
        "request": REQUEST,
        "identity_policies": [doc(allow())],
        "scps": [[FULL_ACCESS, pretty]],
    }
    assert run(line)[0]["decision"] == "allow"


def test_cross_account_request_through_the_batch() -> None:
    line = {
        "id": 1,
        "request": {**REQUEST, "resource_account": "999999999999"},
        "identity_policies": [doc(allow())],
        "resource_policy": doc(allow("s3:GetObject", "*", Principal={"AWS": ACCOUNT})),
    }
    assert run(line)[0]["decision"] == "allow"
    alone = {**line, "resource_policy": None}
    out = run(alone)[0]
    assert out["decision"] == "implicit_deny"
    assert "999999999999" in out["explanation"][0]["reason"]
