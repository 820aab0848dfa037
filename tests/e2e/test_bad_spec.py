"""`stockade up` with a bad spec or template: one clear line naming file, line and field,
exit 2, and nothing written (no state directory, no sandbox started)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from e2e.support import run_cli
from stockade.scaffold import write_scaffold


def _up(workdir: Path, spec: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(workdir, "up", "--sandbox", "--spec", str(spec))


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    write_scaffold(tmp_path / "fleet")
    return tmp_path / "fleet"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


CASES = {
    "malformed yaml": (
        "stockade.yaml",
        "  tenant_ou: Tenants\n",
        "  tenant_ou: [Tenants\n",
        ["stockade.yaml:"],
    ),
    "unknown service in a tier": (
        "stockade.yaml",
        "services: [api, orders]",
        "services: [api, billing]",
        ["stockade.yaml:", "tiers.free.services", "billing"],
    ),
    "naming without placeholder": (
        "stockade.yaml",
        'account_email: "aws+{tenant}@example.com"',
        'account_email: "aws@example.com"',
        ["stockade.yaml:", "naming.account_email", "{tenant}"],
    ),
    "missing template": (
        "stockade.yaml",
        "template: templates/baseline/access.yaml",
        "template: templates/baseline/nope.yaml",
        ["stockade.yaml:", "nope.yaml"],
    ),
    "template with an invalid resource type": (
        "templates/baseline/platform.yaml",
        "AWS::Logs::LogGroup",
        "AWS::Logs::NoSuchThing",
        ["platform.yaml:", "NoSuchThing"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_spec_is_one_line_exit_2_nothing_written(fleet: Path, case: str) -> None:
    relative, old, new, expected = CASES[case]
    _edit(fleet / relative, old, new)
    result = _up(fleet.parent, fleet / "stockade.yaml")
    assert result.returncode == 2, result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    assert not (fleet.parent / ".stockade").exists()


def test_template_file_deleted(fleet: Path) -> None:
    shutil.rmtree(fleet / "templates" / "services")
    result = _up(fleet.parent, fleet / "stockade.yaml")
    assert result.returncode == 2
    assert "orders.yaml" in result.stderr
    assert not (fleet.parent / ".stockade").exists()
