"""Guardrails over the real engine and the sandbox's organization: the spec's SCPs are attached
on first start, plan shows SCP changes, apply reconciles them, failing guardrail tests refuse
both, and ``policy explain`` reads a tenant's real SCP chain."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.support import PlaneConfig, Planes, wait_settled
from stockade.domain.errors import GuardrailTestsFailed
from stockade.domain.guardrails import ObservedScp
from stockade.domain.tenant import TenantRequest
from stockade.engine.explain import ExplainRequest
from stockade.scaffold import write_scaffold
from stockade.server.control import ControlPlane

SCP = "stockade-deny-leave-and-tamper"
NO_DELETE_LOGS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "logs:DeleteLogGroup", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("guardrails-spec")
    write_scaffold(directory)
    return directory / "stockade.yaml"


@pytest.fixture
def gplane(planes: Planes, spec_path: Path) -> ControlPlane:
    return planes.get(PlaneConfig(spec_path=spec_path))


@pytest.fixture
def edit(spec_path: Path) -> Iterator[Callable[[Callable[[dict[str, Any]], None]], None]]:
    """Edit the spec on disk for one test; the original comes back afterwards."""
    original = spec_path.read_text()

    def change(mutate: Callable[[dict[str, Any]], None]) -> None:
        document = yaml.safe_load(spec_path.read_text())
        mutate(document)
        before = spec_path.stat().st_mtime_ns
        spec_path.write_text(yaml.safe_dump(document, sort_keys=False))
        if spec_path.stat().st_mtime_ns == before:
            time.sleep(0.01)
            spec_path.touch()

    yield change
    spec_path.write_text(original)
    spec_path.touch()


def ours(plane: ControlPlane) -> dict[str, ObservedScp]:
    return {s.name: s for s in plane.cloud.organizations().list_scps() if not s.aws_managed}


def targets(scp: ObservedScp) -> set[str]:
    return {str(t) for t in scp.targets}


def test_first_start_attaches_the_spec_scps(gplane: ControlPlane) -> None:
    scps = ours(gplane)
    assert set(scps) == {SCP}
    assert scps[SCP].managed
    assert targets(scps[SCP]) == {"ou:Tenants", "ou:Suspended"}
    outcome = gplane.planner.plan()
    assert outcome.guardrails is not None
    assert outcome.guardrails.scp_actions == ()
    assert len(outcome.guardrails.tests) == 3


def test_plan_shows_and_apply_makes_the_scp_changes(
    gplane: ControlPlane, spec_path: Path, edit: Callable[..., None]
) -> None:
    (spec_path.parent / "policies" / "no-delete-logs.json").write_text(json.dumps(NO_DELETE_LOGS))

    def mutate(document: dict[str, Any]) -> None:
        scps = document["guardrails"]["scps"]
        scps[0]["targets"] = ["ou:Tenants"]
        scps.append(
            {"name": "no-delete-logs", "file": "policies/no-delete-logs.json", "targets": ["root"]}
        )

    edit(mutate)
    plan = gplane.planner.plan().guardrails
    assert plan is not None
    assert [a.describe() for a in plan.scp_actions] == [
        "create no-delete-logs",
        f"detach {SCP} from ou:Suspended",
        "attach no-delete-logs to root",
    ]
    assert targets(ours(gplane)[SCP]) == {"ou:Tenants", "ou:Suspended"}  # plan changed nothing

    applied = gplane.rollouts.apply(actor="test")
    assert [a.describe() for a in applied.scp_actions] == [a.describe() for a in plan.scp_actions]
    scps = ours(gplane)
    assert targets(scps[SCP]) == {"ou:Tenants"}
    assert targets(scps["no-delete-logs"]) == {"root"}
    again = gplane.planner.plan().guardrails
    assert again is not None and again.scp_actions == ()
    events = [e.action for e in gplane.audit.list(limit=50) if e.action.startswith("scp.")]
    assert {"scp.create", "scp.detach", "scp.attach"} <= set(events)


def test_failing_guardrail_tests_refuse_plan_and_apply(
    gplane: ControlPlane, edit: Callable[..., None]
) -> None:
    before = {name: targets(s) for name, s in ours(gplane).items()}

    def unguard(document: dict[str, Any]) -> None:
        document["guardrails"]["scps"] = []

    edit(unguard)
    with pytest.raises(GuardrailTestsFailed, match="a tenant admin cannot leave the organization"):
        gplane.planner.plan()
    with pytest.raises(GuardrailTestsFailed):
        gplane.rollouts.apply(actor="test")
    assert {name: targets(s) for name, s in ours(gplane).items()} == before


def test_explain_reads_the_tenants_real_scp_chain(gplane: ControlPlane) -> None:
    gplane.service.create_tenant(TenantRequest(tenant_id="explained", tier="free"), actor="t")
    tenant = wait_settled(gplane, ["explained"])["explained"]
    assert tenant.account_id is not None
    outcome = gplane.policies.explain(
        ExplainRequest(tenant_id="explained", action="organizations:LeaveOrganization")
    )
    assert outcome.decision.kind.value == "explicit_deny"
    [deciding] = outcome.decision.explanation
    assert outcome.policy_name(deciding) == SCP
    assert [str(level.target) for level in outcome.chain] == [
        "root",
        "ou:Tenants",
        f"account:{tenant.account_id}",
    ]
    allowed = gplane.policies.explain(
        ExplainRequest(tenant_id="explained", action="dynamodb:PutItem")
    )
    assert allowed.decision.kind.value == "allow"
