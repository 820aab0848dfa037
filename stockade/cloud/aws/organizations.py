"""AWS Organizations adapter: the organization, OUs, account creation, placement and tags
(service control policies: ``organizations_scps.ServiceControlPolicies``, inherited).

Idempotent by design: every create looks up first, and "already exists" answers resolve to the
existing object. Who calls it: the engine, through ``cloud.ports.OrganizationsPort``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from stockade.cloud.aws.errors import error_code, translate
from stockade.cloud.aws.organizations_scps import ServiceControlPolicies
from stockade.cloud.aws.permissions import requires
from stockade.cloud.ports import Account, AccountCreation, CreationState


def _creation(status: dict[str, Any]) -> AccountCreation:
    return AccountCreation(
        request_id=status["Id"],
        state=CreationState(status["State"]),
        account_name=status.get("AccountName", ""),
        account_id=status.get("AccountId"),
        failure_reason=status.get("FailureReason"),
    )


class Organizations(ServiceControlPolicies):
    """Implements ``cloud.ports.OrganizationsPort`` over one boto3 Organizations client."""

    def __init__(self, client: Any, *, create_client: Any | None = None) -> None:
        super().__init__(client)
        #: a client without automatic retries, for CreateAccount (see ``create_account``)
        self._create_client = create_client or client

    @requires(
        "organizations:DescribeOrganization",
        "organizations:CreateOrganization",
        "iam:CreateServiceLinkedRole",
        "organizations:ListRoots",
    )
    def ensure_organization(self) -> str:
        with translate("organizations:DescribeOrganization"):
            try:
                self._client.describe_organization()
            except ClientError as exc:
                if error_code(exc) != "AWSOrganizationsNotInUseException":
                    raise
                self._create_organization()
        with translate("organizations:ListRoots"):
            roots = self._client.list_roots()["Roots"]
        return str(roots[0]["Id"])

    def _create_organization(self) -> None:
        try:
            self._client.create_organization(FeatureSet="ALL")
        except ClientError as exc:
            if error_code(exc) != "AlreadyInOrganizationException":
                raise

    def _find_ou(self, parent_id: str, name: str) -> str | None:
        paginator = self._client.get_paginator("list_organizational_units_for_parent")
        with translate("organizations:ListOrganizationalUnitsForParent"):
            for page in paginator.paginate(ParentId=parent_id):
                for ou in page["OrganizationalUnits"]:
                    if ou["Name"] == name:
                        return str(ou["Id"])
        return None

    @requires(
        "organizations:ListOrganizationalUnitsForParent", "organizations:CreateOrganizationalUnit"
    )
    def ensure_ou(self, *, parent_id: str, name: str) -> str:
        existing = self._find_ou(parent_id, name)
        if existing:
            return existing
        with translate("organizations:CreateOrganizationalUnit"):
            try:
                ou = self._client.create_organizational_unit(ParentId=parent_id, Name=name)
                return str(ou["OrganizationalUnit"]["Id"])
            except ClientError as exc:
                if error_code(exc) != "DuplicateOrganizationalUnitException":
                    raise
        found = self._find_ou(parent_id, name)
        if found is None:  # pragma: no cover - AWS said it exists
            raise RuntimeError(f"OU {name!r} reported as duplicate but not found")
        return found

    @requires("organizations:CreateAccount")
    def create_account(self, *, email: str, name: str) -> AccountCreation:
        """Send CreateAccount exactly once. Not idempotent at AWS: if the response is lost, a
        blind re-send creates a second account, so errors go to the caller, which looks the
        first request up (``find_account_creation``) before it sends another."""
        with translate("organizations:CreateAccount"):
            response = self._create_client.create_account(Email=email, AccountName=name)
        return _creation(response["CreateAccountStatus"])

    @requires("organizations:DescribeCreateAccountStatus")
    def describe_account_creation(self, *, request_id: str) -> AccountCreation:
        with translate("organizations:DescribeCreateAccountStatus"):
            response = self._client.describe_create_account_status(
                CreateAccountRequestId=request_id
            )
        return _creation(response["CreateAccountStatus"])

    @requires("organizations:ListCreateAccountStatus")
    def find_account_creation(self, *, account_name: str) -> AccountCreation | None:
        newest: dict[str, Any] | None = None
        paginator = self._client.get_paginator("list_create_account_status")
        with translate("organizations:ListCreateAccountStatus"):
            for page in paginator.paginate(States=["IN_PROGRESS", "SUCCEEDED"]):
                for status in page["CreateAccountStatuses"]:
                    if status.get("AccountName") != account_name:
                        continue
                    if (
                        newest is None
                        or status["RequestedTimestamp"] > newest["RequestedTimestamp"]
                    ):
                        newest = status
        return _creation(newest) if newest else None

    @requires("organizations:ListAccounts")
    def find_account_by_email(self, *, email: str) -> Account | None:
        wanted = email.lower()
        paginator = self._client.get_paginator("list_accounts")
        with translate("organizations:ListAccounts"):
            for page in paginator.paginate():
                for acct in page["Accounts"]:
                    if str(acct["Email"]).lower() == wanted:
                        return Account(
                            account_id=acct["Id"],
                            email=acct["Email"],
                            name=acct["Name"],
                            status=acct.get("Status", ""),
                        )
        return None

    @requires("organizations:ListParents", "organizations:MoveAccount")
    def move_account(self, *, account_id: str, destination_id: str) -> bool:
        with translate("organizations:ListParents"):
            parents = self._client.list_parents(ChildId=account_id)["Parents"]
        current = parents[0]["Id"]
        if current == destination_id:
            return False
        with translate("organizations:MoveAccount"):
            try:
                self._client.move_account(
                    AccountId=account_id,
                    SourceParentId=current,
                    DestinationParentId=destination_id,
                )
            except ClientError as exc:
                # a retry after a lost response: the account is already there
                if error_code(exc) == "DuplicateAccountException":
                    return False
                raise
        return True

    @requires("organizations:TagResource")
    def tag_account(self, *, account_id: str, tags: dict[str, str]) -> None:
        with translate("organizations:TagResource"):
            self._client.tag_resource(
                ResourceId=account_id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )

    @requires("organizations:ListAccounts")
    def count_accounts(self) -> int:
        paginator = self._client.get_paginator("list_accounts")
        total = 0
        with translate("organizations:ListAccounts"):
            for page in paginator.paginate():
                total += len(page["Accounts"])
        return total
