"""write_scaffold: writes the example fleet, which loads; refuses to overwrite without force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.domain.errors import ValidationError
from stockade.scaffold import example_spec_path, write_scaffold
from stockade.spec import load_spec


def test_writes_the_example_and_it_loads(tmp_path: Path) -> None:
    target = tmp_path / "fleet"
    written = write_scaffold(target)
    relative = {p.relative_to(target).as_posix() for p in written}
    assert {"stockade.yaml", "README.md"} <= relative
    assert any(r.startswith("templates/baseline/") for r in relative)
    assert any(r.startswith("templates/services/") for r in relative)
    assert any(r.startswith("policies/") and r.endswith(".json") for r in relative)
    assert all(p.is_file() for p in written)

    loaded = load_spec(target / "stockade.yaml")
    assert loaded.root == target.resolve()
    assert len(loaded.templates) == 6


def test_second_call_without_force_names_the_file_and_overwrites_nothing(tmp_path: Path) -> None:
    written = write_scaffold(tmp_path)
    spec = tmp_path / "stockade.yaml"
    spec.write_text("# edited by the user\n")
    before = {p: p.read_bytes() for p in written}

    with pytest.raises(ValidationError) as caught:
        write_scaffold(tmp_path)
    assert str(written[0]) in caught.value.message
    assert "--force" in caught.value.hint
    assert {p: p.read_bytes() for p in written} == before


def test_refuses_when_any_single_file_exists(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("mine\n")
    with pytest.raises(ValidationError) as caught:
        write_scaffold(tmp_path)
    assert str(readme) in caught.value.message
    assert readme.read_text() == "mine\n"
    assert not (tmp_path / "stockade.yaml").exists()


def test_force_overwrites(tmp_path: Path) -> None:
    write_scaffold(tmp_path)
    spec = tmp_path / "stockade.yaml"
    spec.write_text("# edited by the user\n")
    write_scaffold(tmp_path, force=True)
    assert spec.read_text() == example_spec_path().read_text()


def test_example_policy_is_an_scp_denying_leaving_and_cloudtrail_tampering() -> None:
    policies = sorted((example_spec_path().parent / "policies").glob("*.json"))
    assert policies
    document = json.loads(policies[0].read_text())
    denied = {
        action
        for statement in document["Statement"]
        if statement["Effect"] == "Deny"
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert {"organizations:LeaveOrganization", "cloudtrail:StopLogging"} <= denied
    assert len(policies[0].read_text()) <= 5_120  # the default SCP size quota


def test_readme_documents_the_engine_parameters() -> None:
    readme = (example_spec_path().parent / "README.md").read_text()
    for name in ("TenantId", "Tier", "ManagementAccountId"):
        assert f"`{name}`" in readme
