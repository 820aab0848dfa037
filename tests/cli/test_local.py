"""``stockade init`` (the real scaffold) and ``stockade up`` (options handed to the server)."""

from __future__ import annotations

import json
from pathlib import Path

from cli.conftest import Cli, one_error_line
from stockade.server.options import UpOptions


def test_up_defaults(cli: Cli) -> None:
    result = cli("up")
    assert result.exit_code == 0, result.output
    assert cli.up.calls == [UpOptions()]


def test_up_passes_every_option(cli: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "stockade.yaml"
    spec.write_text("{}\n")
    result = cli(
        "up",
        "--sandbox",
        "--spec",
        str(spec),
        "--port",
        "9090",
        "--host",
        "0.0.0.0",
        "--demo",
        "25",
        "--time-scale",
        "60",
        "--latency",
        "aws-like",
        "--exit-when-settled",
    )
    assert result.exit_code == 0, result.output
    assert cli.up.calls == [
        UpOptions(
            mode="sandbox",
            spec_path=spec,
            host="0.0.0.0",
            port=9090,
            demo=25,
            time_scale=60.0,
            latency="aws-like",
            progress=True,
            exit_when_settled=True,
        )
    ]


def test_up_without_progress_for_json_or_no_terminal(cli: Cli) -> None:
    assert cli("-o", "json", "up").exit_code == 0
    assert cli("up", stdout_is_tty=lambda: False).exit_code == 0
    assert [options.progress for options in cli.up.calls] == [False, False]


def test_up_aws(cli: Cli) -> None:
    assert cli("up", "--aws").exit_code == 0
    assert cli.up.calls[0].mode == "aws"


def test_up_rejects_sandbox_options_with_aws(cli: Cli) -> None:
    result = cli("up", "--aws", "--time-scale", "10")
    assert result.exit_code == 2
    assert "only apply to --sandbox" in one_error_line(result)
    assert cli.up.calls == []


def test_up_rejects_bad_values(cli: Cli, tmp_path: Path) -> None:
    assert cli("up", "--time-scale", "0").exit_code == 2
    assert cli("up", "--port", "70000").exit_code == 2
    assert cli("up", "--latency", "slow").exit_code == 2
    assert cli("up", "--spec", str(tmp_path / "missing.yaml")).exit_code == 2
    assert cli.up.calls == []


def test_up_exit_code_is_the_servers(cli: Cli) -> None:
    cli.up.exit_code = 3
    assert cli("up").exit_code == 3


def test_init_writes_the_scaffold(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "fleet"
    result = cli("-o", "json", "init", str(target))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["directory"] == str(target)
    assert document["files"]
    assert all(Path(name).exists() for name in document["files"])
    assert (target / "stockade.yaml").exists()


def test_init_twice_needs_force(cli: Cli, tmp_path: Path) -> None:
    assert cli("init", str(tmp_path)).exit_code == 0
    again = cli("init", str(tmp_path))
    assert again.exit_code == 2
    assert "already exists" in one_error_line(again)
    assert cli("init", str(tmp_path), "--force").exit_code == 0
