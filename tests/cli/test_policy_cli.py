"""``stockade policy simulate`` and ``stockade policy lint``: local commands, exit codes, output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli.conftest import Cli, one_error_line

USER = "arn:aws:iam::111122223333:user/alice"
V = "2012-10-17"


def _line(case_id: Any, policies: list[Any], action: str = "s3:GetObject") -> str:
    return json.dumps(
        {
            "id": case_id,
            "request": {"principal": USER, "action": action, "resource": "arn:aws:s3:::b/k"},
            "identity_policies": policies,
        }
    )


ALLOW_S3 = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def test_simulate_from_stdin(cli: Cli) -> None:
    lines = "\n".join([_line(1, [ALLOW_S3]), _line(2, [ALLOW_S3], "ec2:RunInstances"), ""])
    result = cli("policy", "simulate", "--input", "-", input=lines)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["decision"]) for o in out] == [(1, "allow"), (2, "implicit_deny")]


def test_simulate_from_a_file_with_a_bad_line(cli: Cli, tmp_path: Path) -> None:
    bad = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "nope"}]}
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join([_line("a", [ALLOW_S3]), _line("b", [bad]), _line("c", [ALLOW_S3])]))
    result = cli("policy", "simulate", "--input", str(path))
    assert result.exit_code == 2
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert out[1]["error"]["code"] == "STK-1150"
    assert "identity_policies[0], statement 0, field 'Resource'" in out[1]["error"]["message"]
    assert out[2]["decision"] == "allow"
    assert "1 of 3 lines had errors" in one_error_line(result)


def test_simulate_size_limit_option(cli: Cli) -> None:
    scp = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    line = json.dumps(
        {
            "id": 1,
            "request": {"principal": USER, "action": "s3:GetObject"},
            "identity_policies": [ALLOW_S3],
            "scps": [[scp]],
        }
    )
    small = cli("policy", "simulate", "--input", "-", "--scp-max-chars", "20", input=line)
    assert small.exit_code == 2
    assert json.loads(small.stdout)["error"]["code"] == "STK-1152"
    assert cli("policy", "simulate", "-i", "-", input=line).exit_code == 0


def test_simulate_missing_file_is_one_error_line(cli: Cli, tmp_path: Path) -> None:
    result = cli("policy", "simulate", "--input", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2
    assert "cannot read" in one_error_line(result)


def test_lint_clean_warning_and_error_files(cli: Cli, tmp_path: Path) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(
        json.dumps(
            {
                "Version": V,
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
                ],
            }
        )
    )
    risky = tmp_path / "risky.json"
    risky.write_text(
        json.dumps(
            {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        )
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": []}]}')

    ok = cli("policy", "lint", str(clean))
    assert ok.exit_code == 0, ok.output
    assert "no findings" in ok.stdout

    warned = cli("policy", "lint", str(risky))
    assert warned.exit_code == 0
    assert "warning" in warned.stdout and "allows every action" in warned.stdout

    failed = cli("policy", "lint", str(broken), str(clean))
    assert failed.exit_code == 1
    assert "error" in failed.stdout


def test_lint_json_output_and_type(cli: Cli, tmp_path: Path) -> None:
    rcp = tmp_path / "rcp.json"
    rcp.write_text(
        json.dumps(
            {
                "Version": V,
                "Statement": [
                    {
                        "Sid": "A",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "*",
                    }
                ],
            }
        )
    )
    result = cli("--output", "json", "policy", "lint", "--type", "rcp", str(rcp))
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["errors"] == 1
    (entry,) = document["files"]
    assert entry["policy_type"] == "rcp"
    finding = next(f for f in entry["findings"] if f["severity"] == "error")
    assert (finding["statement"], finding["sid"], finding["field"]) == (0, "A", "Effect")


def test_lint_unreadable_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("policy", "lint", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "cannot read" in one_error_line(result)
