"""moto skips some CloudFormation resource types yet reports the stack complete: the engine
compares the stack's resources with its template and records a warning on the tenant."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.support import PlaneConfig, Planes, wait_settled
from stockade.domain.tenant import TenantRequest, TenantState
from stockade.engine.bootstrap import bootstrap_organization
from stockade.server.control import ControlPlane

SPEC = """\
version: 1
regions: [us-east-1]
baseline:
  version: "1"
  stacks:
    - name: stockade-queues
      template: templates/queues.yaml
tiers:
  free: {}
"""
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: sns.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
"""


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("skipped-spec")
    (root / "templates").mkdir()
    (root / "templates" / "queues.yaml").write_text(TEMPLATE)
    (root / "stockade.yaml").write_text(SPEC)
    return root / "stockade.yaml"


@pytest.fixture
def skipping_plane(planes: Planes, spec_path: Path) -> ControlPlane:
    return planes.get(PlaneConfig(spec_path=spec_path))


def test_resources_the_sandbox_skipped_become_a_warning(skipping_plane: ControlPlane) -> None:
    plane = skipping_plane
    plane.service.create_tenant(TenantRequest(tenant_id="skipped", tier="free"), actor="test")
    tenant = wait_settled(plane, ["skipped"])["skipped"]
    assert tenant.state is TenantState.ACTIVE
    (warning,) = tenant.warnings
    assert "stockade-queues" in warning
    assert "AWS::SQS::QueuePolicy" in warning and "QueuePolicy" in warning
    assert "AWS::SQS::Queue:" not in warning  # the queue itself was created


def test_bootstrap_is_idempotent(skipping_plane: ControlPlane) -> None:
    again = bootstrap_organization(skipping_plane.cloud, skipping_plane.spec.spec)
    assert again == skipping_plane.layout
    org = skipping_plane.cloud.organizations()
    root = org.ensure_organization()
    assert root == skipping_plane.layout.root_id
