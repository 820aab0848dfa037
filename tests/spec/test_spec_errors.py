"""Bad specs and bad templates: each raises SpecError naming the file, the line and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stockade.domain.errors import SpecError
from stockade.spec import load_spec, load_spec_text

SPEC = textwrap.dedent(
    """\
    version: 1
    naming:
      account_email: "aws+{tenant}@example.com"
      account_name: "tenant-{tenant}"
    regions:
      - us-east-1
    services:
      queue:
        version: "1.0.0"
        template: templates/queue.yaml
    tiers:
      free:
        services: [queue]
        observability: minimal
      pro:
        services: [queue]
        observability: full
    """
)

TEMPLATE = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      TenantId:
        Type: String
    Resources:
      Queue:
        Type: AWS::SQS::Queue
        Properties:
          QueueName: !Sub "jobs-${TenantId}"
    """
)


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def write_fleet(root: Path, spec: str = SPEC, template: str | None = TEMPLATE) -> Path:
    if template is not None:
        (root / "templates").mkdir(parents=True, exist_ok=True)
        (root / "templates" / "queue.yaml").write_text(template)
    path = root / "stockade.yaml"
    path.write_text(spec)
    return path


def spec_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, name="stockade.yaml")
    assert caught.value.hint, "every error says what to do"
    return caught.value


def load_error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.hint, "every error says what to do"
    return caught.value


def test_the_minimal_fixture_spec_is_valid() -> None:
    spec = load_spec_text(SPEC, name="stockade.yaml")
    assert spec.tier_names() == {"free", "pro"}


def test_yaml_syntax_error_names_line_and_column() -> None:
    text = SPEC.replace('account_name: "tenant-{tenant}"', "account_name: tenant: {tenant}")
    error = spec_error(text)
    line = line_of(text, "account_name")
    assert error.message.startswith(f"stockade.yaml:{line}:")
    assert "mapping values are not allowed here" in error.message


def test_unknown_top_level_key() -> None:
    text = SPEC + "colour: blue\n"
    error = spec_error(text)
    assert error.message.startswith(f"stockade.yaml:{line_of(text, 'colour')}: colour: unknown")
    assert "tiers" in error.hint  # lists the allowed keys


def test_wrong_type() -> None:
    text = SPEC.replace("regions:\n  - us-east-1\n", "regions: 5\n")
    error = spec_error(text)
    assert error.message.startswith(f"stockade.yaml:{line_of(text, 'regions')}: regions: ")
    assert "expected a list" in error.message


def test_tier_using_an_unknown_service() -> None:
    text = SPEC.replace("  pro:\n    services: [queue]", "  pro:\n    services: [queue, billing]")
    error = spec_error(text)
    expected = f"stockade.yaml:{line_of(text, 'billing')}: tiers.pro.services[1]: "
    assert error.message.startswith(expected)
    assert "unknown service 'billing'" in error.message
    assert "queue" in error.hint


def test_naming_without_tenant_placeholder() -> None:
    text = SPEC.replace("aws+{tenant}@example.com", "aws@example.com")
    error = spec_error(text)
    line = line_of(text, "account_email")
    assert error.message == (
        f"stockade.yaml:{line}: naming.account_email: must contain the placeholder {{tenant}}"
    )


def test_unknown_field_inside_a_tier() -> None:
    text = SPEC.replace("observability: full", "observability: full\n    colour: red")
    error = spec_error(text)
    assert error.message.startswith(f"stockade.yaml:{line_of(text, 'colour')}: tiers.pro.colour")
    assert "observability" in error.hint


def test_boolean_where_a_string_is_expected_suggests_quoting() -> None:
    text = SPEC + "rollout:\n  waves:\n    - name: canary\n      selector:\n        canary: yes\n"
    error = spec_error(text)
    line = line_of(text, "canary: yes")
    assert error.message.startswith(f"stockade.yaml:{line}: rollout.waves[0].selector.canary:")
    assert "quote" in error.hint


def test_duplicate_key_is_an_error() -> None:
    text = SPEC + "version: 1\n"
    error = spec_error(text)
    assert error.message.startswith(f"stockade.yaml:{len(text.splitlines())}: version: duplicate")


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "empty"), ("# only a comment\n", "empty"), ("- a\n- b\n", "mapping")],
)
def test_empty_or_non_mapping_spec(text: str, words: str) -> None:
    assert words in spec_error(text).message


def test_missing_spec_file(tmp_path: Path) -> None:
    error = load_error(tmp_path / "stockade.yaml")
    assert str(tmp_path / "stockade.yaml") in error.message
    assert "stockade init" in error.hint


def test_missing_template_names_the_spec_line_and_resolved_path(tmp_path: Path) -> None:
    spec = write_fleet(tmp_path, template=None)
    error = load_error(spec)
    line = line_of(SPEC, "template: templates/queue.yaml")
    assert error.message.startswith(f"{spec}:{line}: services.queue.template: ")
    assert str((tmp_path / "templates" / "queue.yaml").resolve()) in error.message


def test_template_path_escaping_the_spec_dir(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text(TEMPLATE)
    text = SPEC.replace("templates/queue.yaml", "../outside.yaml")
    spec = write_fleet(tmp_path / "fleet", spec=text)
    error = load_error(spec)
    line = line_of(text, "../outside.yaml")
    assert error.message.startswith(f"{spec}:{line}: services.queue.template: ")
    assert "outside" in error.message


def test_absolute_template_path_is_refused(tmp_path: Path) -> None:
    text = SPEC.replace("templates/queue.yaml", str(tmp_path / "templates" / "queue.yaml"))
    spec = write_fleet(tmp_path, spec=text)
    error = load_error(spec)
    assert error.message.startswith(f"{spec}:{line_of(text, 'template:')}: services.queue.template")
    assert "relative" in error.message


def test_template_that_is_not_valid_yaml(tmp_path: Path) -> None:
    template = TEMPLATE.replace("Type: AWS::SQS::Queue", "Type: [AWS::SQS::Queue")
    spec = write_fleet(tmp_path, template=template)
    error = load_error(spec)
    assert error.message.startswith(f"{tmp_path / 'templates' / 'queue.yaml'}:")
    assert f"{spec}:{line_of(SPEC, 'template:')}" in error.hint  # who uses the template


def test_template_without_resources(tmp_path: Path) -> None:
    template = 'AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n'
    spec = write_fleet(tmp_path, template=template)
    error = load_error(spec)
    assert error.message.startswith(f"{tmp_path / 'templates' / 'queue.yaml'}:2: Resources: ")


def test_template_with_a_cfn_lint_error(tmp_path: Path) -> None:
    template = TEMPLATE + "      Colour: blue\n"
    spec = write_fleet(tmp_path, template=template)
    error = load_error(spec)
    line = line_of(template, "Colour")
    assert error.message.startswith(f"{tmp_path / 'templates' / 'queue.yaml'}:{line}:")
    assert "E3002" in error.message
    assert "Resources.Queue.Properties" in error.message


def test_template_with_an_unknown_resource_type(tmp_path: Path) -> None:
    template = TEMPLATE.replace("AWS::SQS::Queue", "AWS::SQS::Queeue")
    spec = write_fleet(tmp_path, template=template)
    error = load_error(spec)
    line = line_of(template, "Queeue")
    assert error.message.startswith(f"{tmp_path / 'templates' / 'queue.yaml'}:{line}:")
    assert "E3006" in error.message


def test_parameter_not_declared_by_the_template(tmp_path: Path) -> None:
    text = SPEC.replace(
        "template: templates/queue.yaml",
        "template: templates/queue.yaml\n    parameters:\n      Size: 3",
    )
    spec = write_fleet(tmp_path, spec=text)
    error = load_error(spec)
    line = line_of(text, "Size: 3")
    assert error.message.startswith(f"{spec}:{line}: services.queue.parameters.Size: ")
    assert "TenantId" in error.hint  # lists what the template declares


def test_engine_parameters_cannot_be_set_in_the_spec(tmp_path: Path) -> None:
    text = SPEC.replace(
        "template: templates/queue.yaml",
        "template: templates/queue.yaml\n    parameters:\n      TenantId: acme",
    )
    error = load_error(write_fleet(tmp_path, spec=text))
    assert "services.queue.parameters.TenantId" in error.message
    assert "engine" in error.message


def test_json_template_is_accepted(tmp_path: Path) -> None:
    body = '{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}\n'
    text = SPEC.replace("queue.yaml", "queue.json")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "queue.json").write_text(body)
    (tmp_path / "stockade.yaml").write_text(text)
    loaded = load_spec(tmp_path / "stockade.yaml")
    assert loaded.templates["templates/queue.json"].resources == {"Queue": "AWS::SQS::Queue"}
