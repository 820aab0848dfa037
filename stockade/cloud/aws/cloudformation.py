"""AWS CloudFormation adapter: stacks in one account and region.

Who calls it: the engine, through ``cloud.ports.StacksPort`` (built by ``AwsCloud.stacks``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from stockade.cloud.aws.errors import error_code, translate
from stockade.cloud.ports import StackInfo, StackResource
from stockade.domain.errors import ConflictError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def _timestamp(value: Any) -> float:
    return float(value.timestamp()) if value is not None else 0.0


def _is_missing(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationError" and "does not exist" in str(exc)


class CloudFormationStacks:
    """Implements ``cloud.ports.StacksPort`` over one boto3 CloudFormation client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_stack(self, *, name: str) -> StackInfo | None:
        with translate("cloudformation:DescribeStacks"):
            try:
                stacks = self._client.describe_stacks(StackName=name)["Stacks"]
            except ClientError as exc:
                if _is_missing(exc):
                    return None
                raise
        if not stacks:
            return None
        stack = stacks[0]
        if stack["StackStatus"] == "DELETE_COMPLETE":
            return None
        return StackInfo(
            name=stack["StackName"],
            stack_id=stack["StackId"],
            status=stack["StackStatus"],
            reason=stack.get("StackStatusReason"),
            tags=tuple((t["Key"], t["Value"]) for t in stack.get("Tags", [])),
            changed_at=_timestamp(stack.get("LastUpdatedTime") or stack.get("CreationTime")),
        )

    def create_stack(
        self,
        *,
        name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
    ) -> str:
        with translate("cloudformation:CreateStack"):
            try:
                response = self._client.create_stack(
                    StackName=name,
                    TemplateBody=template_body,
                    Parameters=[
                        {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                    ],
                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                    Capabilities=CAPABILITIES,
                )
            except ClientError as exc:
                if error_code(exc) == "AlreadyExistsException":
                    raise ConflictError(f"stack {name!r} already exists") from exc
                raise
        return str(response["StackId"])

    def delete_stack(self, *, name: str) -> None:
        with translate("cloudformation:DeleteStack"):
            self._client.delete_stack(StackName=name)

    def list_stack_resources(self, *, name: str) -> list[StackResource]:
        resources: list[StackResource] = []
        paginator = self._client.get_paginator("list_stack_resources")
        with translate("cloudformation:ListStackResources"):
            for page in paginator.paginate(StackName=name):
                for r in page["StackResourceSummaries"]:
                    resources.append(
                        StackResource(
                            logical_id=r["LogicalResourceId"],
                            resource_type=r["ResourceType"],
                            status=r["ResourceStatus"],
                            physical_id=r.get("PhysicalResourceId"),
                        )
                    )
        return resources
