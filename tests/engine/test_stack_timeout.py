"""A baseline stack that never finishes fails the tenant after ``stack_timeout``, never hangs.

moto refuses some resources at CreateStack (here an IAM policy for a role that does not exist)
yet keeps the stack, ``CREATE_IN_PROGRESS`` forever. The first attempt sees CreateStack's error;
a retry finds the stack still in progress, waits ``EngineTiming.stack_timeout`` and gives up.
This module runs its own control plane: a fleet spec with that template as the baseline, and a
high time scale so the timeout (1800 AWS seconds) is two seconds of wall time.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.support import PlaneConfig, Planes, account_client, wait_settled
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.engine.timing import EngineTiming
from stockade.server.control import ControlPlane
from stockade.settings import SandboxSettings

TIME_SCALE = 900.0
STACK = "stockade-stuck"
SPEC = f"""\
version: 1
regions: [us-east-1]
baseline:
  version: "1"
  stacks:
    - name: {STACK}
      template: templates/stuck.yaml
tiers:
  free: {{}}
"""
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A policy for a role that does not exist; moto keeps the stack CREATE_IN_PROGRESS.
Resources:
  OrphanPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: orphan
      Roles: [no-such-role]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: "*"
"""


@pytest.fixture(scope="module")
def stuck_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stuck-spec")
    (root / "templates").mkdir()
    (root / "templates" / "stuck.yaml").write_text(TEMPLATE)
    (root / "stockade.yaml").write_text(SPEC)
    return root / "stockade.yaml"


@pytest.fixture
def stuck_plane(planes: Planes, stuck_spec: Path) -> ControlPlane:
    sandbox = SandboxSettings(
        time_scale=TIME_SCALE, latency="off", create_account_delay=60.0, enforce_quotas=True
    )
    return planes.get(PlaneConfig(sandbox=sandbox, spec_path=stuck_spec))


def test_a_stack_stuck_in_progress_fails_the_tenant_after_the_stack_timeout(
    stuck_plane: ControlPlane,
) -> None:
    plane = stuck_plane
    timeout = EngineTiming().scaled(TIME_SCALE).stack_timeout
    plane.service.create_tenant(TenantRequest(tenant_id="stuck", tier="free"), actor="test")
    first = wait_settled(plane, ["stuck"])["stuck"]
    assert first.state is TenantState.FAILED
    assert first.failed_step == f"deploy-baseline:{STACK}"
    assert first.account_id is not None
    cfn = account_client(plane, "cloudformation", first.account_id)
    (stack,) = cfn.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_IN_PROGRESS"

    started = time.monotonic()
    plane.service.retry_tenant("stuck", actor="test")
    second = wait_settled(plane, ["stuck"], timeout=timeout + 30)["stuck"]
    elapsed = time.monotonic() - started

    assert second.state is TenantState.FAILED
    assert second.attempt == 2
    assert second.failed_step == f"deploy-baseline:{STACK}"
    assert "still CREATE_IN_PROGRESS" in (second.failure_reason or "")
    assert elapsed >= timeout
    (stack,) = cfn.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_IN_PROGRESS"  # nothing else touched it
    stuck_id = stack["StackId"]

    # a further retry, now that the stack has been stuck for longer than any stack should take,
    # starts over: it deletes the stuck stack and creates it anew instead of waiting again
    plane.service.retry_tenant("stuck", actor="test")
    third = wait_settled(plane, ["stuck"], timeout=timeout + 30)["stuck"]
    assert third.attempt == 3
    assert third.state is TenantState.FAILED  # the template is still broken
    stacks = cfn.list_stacks()["StackSummaries"]
    assert {s["StackId"] for s in stacks if s["StackStatus"] == "DELETE_COMPLETE"} == {stuck_id}
    (stack,) = cfn.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackId"] != stuck_id
