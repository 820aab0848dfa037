"""The guardrails' policy files: read with the spec, checked, and part of the release hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.domain.errors import SpecError
from stockade.scaffold import write_scaffold
from stockade.spec import load_spec

SCP = "policies/deny-leave-and-tamper.json"


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    write_scaffold(tmp_path)
    return tmp_path / "stockade.yaml"


def error_of(spec: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    return caught.value.one_line()


def test_policies_are_loaded_and_hashed(spec: Path) -> None:
    loaded = load_spec(spec)
    assert json.loads(loaded.policies[SCP])["Statement"][0]["Sid"] == "DenyLeavingTheOrganization"
    before = loaded.content_hash
    policy = spec.parent / SCP
    policy.write_text(policy.read_text().replace("DeleteTrail", "StopEventDataStoreIngestion"))
    assert load_spec(spec).content_hash != before


def test_a_missing_policy_file_names_the_spec_line(spec: Path) -> None:
    (spec.parent / SCP).unlink()
    line = error_of(spec)
    assert "guardrails.scps[0].file: SCP file not found" in line
    assert "stockade.yaml:" in line


def test_invalid_json_names_the_file_and_position(spec: Path) -> None:
    (spec.parent / SCP).write_text('{"Version": "2012-10-17", "Statement": [}')
    line = error_of(spec)
    assert "deny-leave-and-tamper.json: not valid JSON" in line
    assert "guardrails.scps[0].file" in line


def test_an_unknown_condition_operator_names_statement_and_field(spec: Path) -> None:
    document = json.loads((spec.parent / SCP).read_text())
    document["Statement"][1]["Condition"] = {"StringEqualsNope": {"aws:PrincipalArn": "x"}}
    (spec.parent / SCP).write_text(json.dumps(document))
    line = error_of(spec)
    assert "statement 1 (Sid 'DenyStoppingCloudTrail')" in line
    assert "StringEqualsNope" in line


def test_an_oversized_scp_is_refused_with_the_size(spec: Path) -> None:
    document = json.loads((spec.parent / SCP).read_text())
    document["Statement"][1]["Action"] = [f"cloudtrail:Action{i:04d}" for i in range(300)]
    (spec.parent / SCP).write_text(json.dumps(document, indent=2))
    line = error_of(spec)
    assert "characters without whitespace, over the limit of 5,120" in line
    spec.write_text(spec.read_text() + "limits:\n  scp_max_chars: 10240\n")
    assert load_spec(spec).policies[SCP]


def test_a_policy_path_may_not_leave_the_spec_directory(spec: Path) -> None:
    spec.write_text(spec.read_text().replace(f"file: {SCP}", "file: ../elsewhere.json"))
    assert "leads outside the spec's directory" in error_of(spec)
