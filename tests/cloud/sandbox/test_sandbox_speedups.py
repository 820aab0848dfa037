"""The sandbox's moto speedups change nothing moto answers.

Templates parsed through libyaml and the template cache are what moto's own loader makes, each
caller gets its own copy, and a template libyaml refuses is left to moto; temporary keys still
act in the account whose role was assumed, before and after a restart; and a moto without the
internals the speedups touch is refused, with nothing patched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox_support import client, client_in

from stockade.cloud.sandbox.moto_speedups import MARK, TemplateLoader, apply_speedups
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.errors import SandboxError

Start = Callable[..., SandboxProcess]

YAML_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: >
  a tenant's base stack,
  folded
Parameters:
  Size: {Type: String, Default: small, AllowedValues: [small, large]}
  Count: {Type: Number, Default: 3}
Mappings:
  Sizes:
    small: {Memory: 128, Enabled: yes, Ratio: 0.5, Since: 2024-01-31}
Conditions:
  IsLarge: !Equals [!Ref Size, large]
Resources:
  Topic: &topic
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "${AWS::StackName}-${Size}"
      Tags:
        - {Key: size, Value: !If [IsLarge, big, !Ref "AWS::NoValue"]}
  Copy: *topic
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!Ref "AWS::StackName", queue]]
      Policy: |
        line one
        line two
Outputs:
  QueueArn:
    Value: !GetAtt Queue.Arn
  TopicName:
    Value: !GetAtt [Topic, TopicName]
  Memory:
    Value: !FindInMap [Sizes, !Ref Size, Memory]
"""
JSON_TEMPLATE = json.dumps(
    {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"A": "x/y \u00e9"}}},
        "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}},
    },
    indent=2,
)
#: JSON indented with tabs: not YAML (moto falls back to JSON for it)
TABBED_JSON = '{\n\t"Resources": {\n\t\t"Topic": {"Type": "AWS::SNS::Topic"}\n\t}\n}'


def _tag_constructor() -> Any:
    from moto.cloudformation.utils import yaml_tag_constructor

    return yaml_tag_constructor


def _moto_parse(template: str) -> Any:
    """What moto 5.2.5's own code makes of a template (pure-Python YAML, else JSON)."""
    yaml.add_multi_constructor("", _tag_constructor())
    try:
        return yaml.load(template, Loader=yaml.Loader)
    except (yaml.parser.ParserError, yaml.scanner.ScannerError):
        return json.loads(template)


def _plain(value: Any) -> Any:
    """``value`` comparable by content: moto's tag constructor leaves YAML nodes in some places
    (``!GetAtt [a, b]``), and nodes compare by identity."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, yaml.Node):
        return (type(value).__name__, value.tag, _plain(value.value))
    return value


@pytest.mark.parametrize("template", [YAML_TEMPLATE, JSON_TEMPLATE], ids=["yaml", "json"])
def test_templates_parse_as_moto_parses_them(template: str) -> None:
    loader = TemplateLoader(_tag_constructor())

    first = loader.parse(template)
    again = loader.parse(template)  # from the cache

    assert _plain(first) == _plain(_moto_parse(template))
    assert _plain(again) == _plain(first)


def test_every_caller_gets_its_own_copy() -> None:
    loader = TemplateLoader(_tag_constructor(), size=1)
    first = loader.parse(YAML_TEMPLATE)
    first["Resources"]["Topic"]["Properties"]["DisplayName"] = "changed"
    first.pop("Outputs")

    again = loader.parse(YAML_TEMPLATE)
    assert _plain(again) == _plain(_moto_parse(YAML_TEMPLATE))
    assert loader.parse(JSON_TEMPLATE) == _moto_parse(JSON_TEMPLATE)  # evicts the YAML one
    assert _plain(loader.parse(YAML_TEMPLATE)) == _plain(_moto_parse(YAML_TEMPLATE))


@pytest.mark.parametrize(
    "template",
    [TABBED_JSON, "", "Resources: [unclosed", "Resources:\n  A: !Ref\n\t- tab", b"Resources: {}"],
    ids=["tabbed-json", "empty", "broken", "tab-indent", "bytes"],
)
def test_what_libyaml_refuses_is_left_to_moto(template: Any) -> None:
    assert TemplateLoader(_tag_constructor()).parse(template) is None


def test_assumed_role_keys_act_in_their_account_across_a_restart(
    start_sandbox: Start, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    accounts = ("111111111111", "222222222222")

    def stacks_by_key(sandbox: SandboxProcess, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
        return {
            account: sorted(
                s["StackName"]
                for s in client(sandbox, "cloudformation", **keys[account]).describe_stacks()[
                    "Stacks"
                ]
            )
            for account in accounts
        }

    sandbox = start_sandbox(state)
    keys: dict[str, dict[str, str]] = {}
    for account in accounts:
        creds = client(sandbox, "sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/StockadeDeployRole", RoleSessionName="deploy"
        )["Credentials"]
        keys[account] = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        client(sandbox, "cloudformation", **keys[account]).create_stack(
            StackName=f"base-{account}", TemplateBody=JSON_TEMPLATE
        )
    before = stacks_by_key(sandbox, keys)
    assert before == {account: [f"base-{account}"] for account in accounts}
    assert client_in(sandbox, "cloudformation", accounts[0]).describe_stacks()["Stacks"]
    sandbox.stop()

    restored = start_sandbox(state)
    assert stacks_by_key(restored, keys) == before


def test_a_moto_without_the_internals_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.cloudformation import models
    from moto.iam import models as iam_models

    monkeypatch.delattr(iam_models.IAMBackend, "create_temp_access_key")

    with pytest.raises(SandboxError, match=r"IAMBackend\.create_temp_access_key is missing"):
        apply_speedups()
    assert not getattr(models.ChangeSet._parse_template, MARK, False)
    assert not getattr(iam_models.get_account_id_from, MARK, False)
