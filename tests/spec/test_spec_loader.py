"""load_spec on good input: the packaged example, what it returns, and the content hash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stockade.scaffold import example_spec_path, write_scaffold
from stockade.spec import LoadedSpec, load_spec, load_spec_text


@pytest.fixture(scope="module")
def example() -> LoadedSpec:
    return load_spec(example_spec_path())


def test_the_packaged_example_loads_cfn_lint_clean(example: LoadedSpec) -> None:
    spec = example.spec
    assert example.path == example_spec_path().resolve()
    assert example.root == example.path.parent
    assert spec.tier_names() == {"free", "standard", "enterprise"}
    assert {t.observability for t in spec.tiers.values()} == {"minimal", "standard", "full"}
    assert set(spec.services) == {"orders", "notifications", "api", "workflows"}
    assert [ou.name for ou in spec.organization.ous] == ["Tenants", "Suspended"]
    assert spec.naming.email("acme") == "aws+acme@example.com"
    assert spec.naming.name("acme") == "tenant-acme"
    assert spec.regions == ("us-east-1",)
    assert spec.baseline.version == "1.0.0"
    assert spec.rollout.waves[0].selector == {"canary": "true"}
    assert [w.percent for w in spec.rollout.waves[1:]] == [10, 50, 100]


def test_every_referenced_template_is_summarized(example: LoadedSpec) -> None:
    spec = example.spec
    referenced = {s.template for s in spec.baseline.stacks} | {
        s.template for s in spec.services.values()
    }
    assert set(example.templates) == referenced
    for key, info in example.templates.items():
        assert info.path == (example.root / key).resolve()
        assert info.body == info.path.read_text()
        assert info.resources and len(info.sha256) == 64
    access = next(i for k, i in example.templates.items() if k.endswith("access.yaml"))
    assert access.resources["StockadeDeployRole"] == "AWS::IAM::Role"
    assert access.resources["StockadeReadOnlyRole"] == "AWS::IAM::Role"
    assert "ManagementAccountId" in access.parameters
    platform = next(i for k, i in example.templates.items() if k.endswith("platform.yaml"))
    assert set(platform.resources.values()) >= {
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::SSM::Parameter",
    }


def test_content_hash_is_stable_and_follows_the_templates(tmp_path: Path) -> None:
    write_scaffold(tmp_path / "a")
    first = load_spec(tmp_path / "a" / "stockade.yaml")
    assert load_spec(tmp_path / "a" / "stockade.yaml").content_hash == first.content_hash

    # the same files elsewhere are the same release
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert load_spec(tmp_path / "b" / "stockade.yaml").content_hash == first.content_hash

    template = tmp_path / "b" / "templates" / "services" / "orders.yaml"
    template.write_text(template.read_text() + "# a comment is a change too\n")
    changed = load_spec(tmp_path / "b" / "stockade.yaml")
    assert changed.content_hash != first.content_hash
    assert changed.templates["templates/services/orders.yaml"].sha256 != (
        first.templates["templates/services/orders.yaml"].sha256
    )


def test_load_spec_text_validates_without_templates() -> None:
    text = example_spec_path().read_text().replace("templates/", "nowhere/")
    spec = load_spec_text(text, name="uploaded.yaml")
    assert spec.services["orders"].template == "nowhere/services/orders.yaml"


def test_relative_spec_path_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_scaffold(tmp_path)
    monkeypatch.chdir(tmp_path)
    loaded = load_spec(Path("stockade.yaml"))
    assert loaded.path == (tmp_path / "stockade.yaml").resolve()
    assert loaded.root == tmp_path.resolve()
