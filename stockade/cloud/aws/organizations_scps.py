"""AWS Organizations adapter, service control policies: read, create, attach, detach, delete.

What the SCP reconcile (``domain.guardrails.plan_scps``) needs from AWS: every SCP with its
content, whether Stockade manages it (tag ``MANAGED_TAG``, set at creation) and its targets as
the spec names them (``ScpTarget``); and the changes, each idempotent so a workflow step can
re-run after a crash. ``scp_chain``: the SCPs that apply to one account, level by level.

AWS errors the caller can act on become ``NotFoundError``, ``ConflictError`` (a target at its
SCP limit, a policy still attached, ...) or ``ValidationError`` (a policy too large or malformed),
each with a hint (``organizations_refusals``); the rest go through ``errors.translate``.

Who calls it: the engine, through ``cloud.ports.OrganizationsPort``
(``cloud.aws.organizations.Organizations`` inherits these methods).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from stockade.cloud.aws.errors import error_code, translate
from stockade.cloud.aws.organizations_refusals import refusal_of
from stockade.cloud.aws.permissions import requires
from stockade.cloud.ports import ScpDocument, ScpLevel
from stockade.domain.errors import (
    ConflictError,
    NotFoundError,
    TransientCloudError,
)
from stockade.domain.guardrails import MANAGED_TAG, ObservedScp, ScpTarget, TargetKind

SCP = "SERVICE_CONTROL_POLICY"
#: the policy is not there (any more)
_GONE = frozenset({"PolicyNotFoundException"})


class ServiceControlPolicies:
    """The SCP half of ``cloud.ports.OrganizationsPort``, over one boto3 Organizations client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @requires("organizations:ListRoots", "organizations:EnablePolicyType")
    def enable_scps(
        self,
        *,
        timeout: float = 120.0,
        poll_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Enable SCPs in the root unless they are; wait up to ``timeout`` seconds while AWS
        enables them (asynchronously), then raise ``TransientCloudError``."""
        root = self._root()
        if _scp_status(root) not in ("ENABLED", "PENDING_ENABLE"):
            enabled = self._call(
                "EnablePolicyType",
                ok={"PolicyTypeAlreadyEnabledException"},
                RootId=root["Id"],
                PolicyType=SCP,
            )
            root = enabled.get("Root", root)
        deadline = clock() + timeout
        while _scp_status(root) != "ENABLED":
            if clock() >= deadline:
                raise TransientCloudError(
                    f"SCPs are still not enabled in the root after {timeout:g} s",
                    hint="AWS enables them asynchronously; it will be retried",
                )
            sleep(poll_interval)
            root = self._root()

    @requires(
        "organizations:ListPolicies",
        "organizations:ListTargetsForPolicy",
        "organizations:DescribePolicy",
        "organizations:ListTagsForResource",
        "organizations:ListRoots",
        "organizations:ListOrganizationalUnitsForParent",
    )
    def list_scps(self) -> tuple[ObservedScp, ...]:
        paths: dict[str, str] | None = None  # OU id -> path, walked once if an OU is a target
        observed: list[ObservedScp] = []
        for summary in self._list("ListPolicies", "Policies", Filter=SCP):
            policy_id = str(summary["Id"])
            raw = self._list("ListTargetsForPolicy", "Targets", ok=_GONE, PolicyId=policy_id)
            content = self._content(policy_id)
            if content is None:
                continue  # deleted since it was listed
            if paths is None and any(t["Type"] == "ORGANIZATIONAL_UNIT" for t in raw):
                paths = self._ou_paths()
            aws_managed = bool(summary.get("AwsManaged"))
            observed.append(
                ObservedScp(
                    policy_id=policy_id,
                    name=str(summary["Name"]),
                    description=str(summary.get("Description") or ""),
                    content=content,
                    aws_managed=aws_managed,
                    managed=not aws_managed and self._is_managed(policy_id),
                    targets=frozenset(_target_of(t, paths or {}) for t in raw),
                )
            )
        return tuple(observed)

    @requires(
        "organizations:ListParents",
        "organizations:DescribeOrganizationalUnit",
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
    )
    def scp_chain(self, *, account_id: str) -> tuple[ScpLevel, ...]:
        contents: dict[str, str | None] = {}  # DescribePolicy answers, for this call only
        levels: list[ScpLevel] = []
        names: list[str] = []
        for target_id, kind, name in reversed(self._path_to_root(account_id)):
            if kind == "ROOT":
                target = ScpTarget(TargetKind.ROOT)
            elif kind == "ORGANIZATIONAL_UNIT":
                names.append(name)
                target = ScpTarget(TargetKind.OU, "/".join(names))
            else:
                target = ScpTarget(TargetKind.ACCOUNT, target_id)
            documents: list[ScpDocument] = []
            for summary in self._list(
                "ListPoliciesForTarget", "Policies", TargetId=target_id, Filter=SCP
            ):
                policy_id = str(summary["Id"])
                if policy_id not in contents:
                    contents[policy_id] = self._content(policy_id)
                content = contents[policy_id]
                if content is not None:  # else detached and deleted since it was listed
                    documents.append(ScpDocument(policy_id, str(summary["Name"]), content))
            levels.append(ScpLevel(target=target, policies=tuple(documents)))
        return tuple(levels)

    @requires(
        "organizations:ListPolicies", "organizations:CreatePolicy", "organizations:TagResource"
    )
    def create_scp(self, *, name: str, description: str, content: str) -> str:
        existing = self._find(name)
        if existing is not None:
            return existing
        created = self._call(
            "CreatePolicy",
            ok={"DuplicatePolicyException"},  # a concurrent or earlier, unanswered request
            what=f"SCP {name!r}",
            size=len(content),
            Name=name,
            Description=description,
            Content=content,
            Type=SCP,
            Tags=[{"Key": MANAGED_TAG, "Value": "true"}],
        )
        if created:
            return str(created["Policy"]["PolicySummary"]["Id"])
        found = self._find(name)
        if found is None:
            raise ConflictError(
                f"AWS says a policy named {name!r} exists, but it is not an SCP",
                hint="rename the SCP in the spec",
            )
        return found

    @requires("organizations:UpdatePolicy")
    def update_scp(self, *, policy_id: str, content: str, description: str) -> None:
        self._call(
            "UpdatePolicy",
            what=f"SCP {policy_id}",
            size=len(content),
            PolicyId=policy_id,
            Content=content,
            Description=description,
        )

    @requires(
        "organizations:AttachPolicy",
        "organizations:ListRoots",
        "organizations:ListOrganizationalUnitsForParent",
    )
    def attach_scp(self, *, policy_id: str, target: ScpTarget) -> None:
        self._call(
            "AttachPolicy",
            ok={"DuplicatePolicyAttachmentException"},
            what=f"SCP {policy_id}",
            target=target,
            PolicyId=policy_id,
            TargetId=self._target_id(target),
        )

    @requires(
        "organizations:DetachPolicy",
        "organizations:ListRoots",
        "organizations:ListOrganizationalUnitsForParent",
    )
    def detach_scp(self, *, policy_id: str, target: ScpTarget) -> None:
        self._call(
            "DetachPolicy",
            ok={"PolicyNotAttachedException", "PolicyNotFoundException"},
            what=f"SCP {policy_id}",
            target=target,
            PolicyId=policy_id,
            TargetId=self._target_id(target),
        )

    @requires("organizations:DeletePolicy")
    def delete_scp(self, *, policy_id: str) -> None:
        self._call(
            "DeletePolicy",
            ok=_GONE,
            what=f"SCP {policy_id}",
            PolicyId=policy_id,
        )

    # -- helpers ---------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        *,
        ok: Collection[str] = (),
        what: str = "",
        target: ScpTarget | None = None,
        size: int = 0,
        **params: Any,
    ) -> dict[str, Any]:
        """Call ``operation``; ``{}`` if AWS answered one of the ``ok`` codes. An error the
        caller can act on becomes its domain error (``refusal_of``), any other ``translate``'s."""
        with translate(f"organizations:{operation}"):
            try:
                response: dict[str, Any] = getattr(self._client, xform_name(operation))(**params)
            except ClientError as exc:
                if error_code(exc) in ok:
                    return {}
                refusal = refusal_of(exc, operation, what=what, target=target, size=size)
                if refusal is None:
                    raise
                raise refusal from exc
        return response

    def _root(self) -> dict[str, Any]:
        return dict(self._call("ListRoots")["Roots"][0])

    def _list(
        self, operation: str, key: str, *, ok: Collection[str] = (), **params: Any
    ) -> list[dict[str, Any]]:
        """Every item under ``key`` in the pages of ``operation``; none if AWS answered one of
        the ``ok`` codes."""
        paginator = self._client.get_paginator(xform_name(operation))
        with translate(f"organizations:{operation}"):
            try:
                return [item for page in paginator.paginate(**params) for item in page[key]]
            except ClientError as exc:
                if error_code(exc) in ok:
                    return []
                raise

    def _find(self, name: str) -> str | None:
        """The id of the SCP named ``name``; ConflictError if it is one of AWS's own."""
        for summary in self._list("ListPolicies", "Policies", Filter=SCP):
            if summary["Name"] == name:
                if summary.get("AwsManaged"):
                    raise ConflictError(
                        f"{name!r} is the name of an AWS managed SCP",
                        hint="give the spec's SCP another name",
                    )
                return str(summary["Id"])
        return None

    def _content(self, policy_id: str) -> str | None:
        """The policy's text; None if there is no such policy (any more)."""
        described = self._call("DescribePolicy", ok=_GONE, PolicyId=policy_id)
        return str(described["Policy"].get("Content") or "") if described else None

    def _is_managed(self, policy_id: str) -> bool:
        tags = self._list("ListTagsForResource", "Tags", ResourceId=policy_id)
        return any(tag["Key"] == MANAGED_TAG for tag in tags)

    def _children(self, parent_id: str) -> list[dict[str, Any]]:
        return self._list(
            "ListOrganizationalUnitsForParent", "OrganizationalUnits", ParentId=parent_id
        )

    def _ou_paths(self) -> dict[str, str]:
        """Every OU's path of names from the root, by OU id: the tree walked once."""
        paths: dict[str, str] = {}
        parents: list[tuple[str, str]] = [(str(self._root()["Id"]), "")]
        while parents:
            parent_id, prefix = parents.pop()
            for ou in self._children(parent_id):
                paths[str(ou["Id"])] = prefix + str(ou["Name"])
                parents.append((str(ou["Id"]), f"{prefix}{ou['Name']}/"))
        return paths

    def _target_id(self, target: ScpTarget) -> str:
        """The AWS id of a target: an OU found by walking its path of names from the root."""
        if target.kind is TargetKind.ACCOUNT:
            return target.ref
        parent_id = str(self._root()["Id"])
        if target.kind is TargetKind.ROOT:
            return parent_id
        walked: list[str] = []
        for name in target.ref.split("/"):
            match = next((ou for ou in self._children(parent_id) if ou["Name"] == name), None)
            if match is None:
                raise NotFoundError(
                    f"no OU {target.ref!r} in the organization "
                    f"(no {name!r} under {'/'.join(walked) or 'the root'})",
                    hint="create the OU (add it to the spec's organization layout) or fix the "
                    "SCP's target",
                )
            walked.append(name)
            parent_id = str(match["Id"])
        return parent_id

    def _path_to_root(self, account_id: str) -> list[tuple[str, str, str]]:
        """(id, type, OU name) from the account up to the root, the account first."""
        chain: list[tuple[str, str, str]] = [(account_id, "ACCOUNT", "")]
        while chain[-1][1] != "ROOT":
            parents = self._call(
                "ListParents",
                what=f"account {account_id}",
                target=ScpTarget(TargetKind.ACCOUNT, account_id),
                ChildId=chain[-1][0],
            )
            parent = parents["Parents"][0]
            parent_id, kind, name = str(parent["Id"]), str(parent["Type"]), ""
            if kind == "ORGANIZATIONAL_UNIT":
                with translate("organizations:DescribeOrganizationalUnit"):
                    ou = self._client.describe_organizational_unit(OrganizationalUnitId=parent_id)
                name = str(ou["OrganizationalUnit"]["Name"])
            chain.append((parent_id, kind, name))
        return chain


def _scp_status(root: dict[str, Any]) -> str | None:
    for policy_type in root.get("PolicyTypes", []):
        if policy_type.get("Type") == SCP:
            return str(policy_type.get("Status"))
    return None


def _target_of(raw: dict[str, Any], paths: dict[str, str]) -> ScpTarget:
    """A ListTargetsForPolicy entry as the spec names it."""
    kind, target_id = raw["Type"], str(raw["TargetId"])
    if kind == "ROOT":
        return ScpTarget(TargetKind.ROOT)
    if kind == "ACCOUNT":
        return ScpTarget(TargetKind.ACCOUNT, target_id)
    if target_id not in paths:
        raise TransientCloudError(
            f"OU {target_id} appeared while the SCPs were being read", hint="it will be retried"
        )
    return ScpTarget(TargetKind.OU, paths[target_id])
