"""Stockade's own policies (``domain.iam.generate_policies``): shape, determinism, resources, and
what they allow, asked of Stockade's own policy evaluator."""

from __future__ import annotations

import json
import random

import pytest

from stockade.domain.iam import (
    POLICY_VERSION,
    Declared,
    Identity,
    RoleSet,
    generate_policies,
    role_names,
)
from stockade.domain.spec import AccessRoles, Organization
from stockade.policy import DecisionKind, PolicySet, evaluate, make_request, parse_policy
from stockade.policy import principal_from_arn as principal
from stockade.policy.lint import lint_policy

M = Identity.MANAGEMENT
ACCOUNT = "111122223333"
STOCKADE = principal(f"arn:aws:iam::{ACCOUNT}:user/stockade")
DECLARED = (
    Declared(M, "Orgs.create", frozenset({"organizations:CreateAccount"})),
    Declared(M, "Orgs.list", frozenset({"organizations:ListAccounts", "organizations:ListRoots"})),
    Declared(
        M,
        "Orgs.ensure",
        frozenset({"organizations:CreateOrganization", "iam:CreateServiceLinkedRole"}),
    ),
    Declared(M, "sts.assume_role", frozenset({"sts:AssumeRole"}), RoleSet.STOCKADE),
    Declared(
        M,
        "Cloud.issue",
        frozenset({"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"}),
        RoleSet.PEOPLE,
    ),
    Declared(Identity.DEPLOY, "Stacks.deploy", frozenset({"cloudformation:CreateChangeSet"})),
    Declared(Identity.DEPLOY, "Stacks.get", frozenset({"cloudformation:DescribeStacks"})),
    Declared(Identity.READ, "Stacks.get", frozenset({"cloudformation:DescribeStacks"})),
)


def _decision(document: dict[str, object], action: str, resource: str = "*") -> DecisionKind:
    policies = PolicySet(identity=(parse_policy(document),))
    return evaluate(make_request(STOCKADE, action, resource), policies).kind


def _role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_one_document_per_identity_with_statements_grouped_by_service() -> None:
    documents = generate_policies(DECLARED, Organization())
    assert list(documents) == [Identity.MANAGEMENT, Identity.DEPLOY, Identity.READ]
    management = documents[M]
    assert management["Version"] == POLICY_VERSION
    assert [s["Sid"] for s in management["Statement"]] == [
        "AssumePeoplesRoles",
        "AssumeStockadeRoles",
        "Organizations",
        "OrganizationsServiceLinkedRole",
    ]
    organizations = management["Statement"][2]
    assert organizations == {
        "Sid": "Organizations",
        "Effect": "Allow",
        "Action": [
            "organizations:CreateAccount",
            "organizations:CreateOrganization",
            "organizations:ListAccounts",
            "organizations:ListRoots",
        ],
        "Resource": "*",
    }
    assert documents[Identity.DEPLOY]["Statement"] == [
        {
            "Sid": "CloudFormation",
            "Effect": "Allow",
            "Action": ["cloudformation:CreateChangeSet", "cloudformation:DescribeStacks"],
            "Resource": "*",
        }
    ]


def test_the_same_declarations_always_give_the_same_bytes() -> None:
    first = json.dumps(generate_policies(DECLARED, Organization()))
    shuffled = list(DECLARED)
    random.Random(3).shuffle(shuffled)
    assert json.dumps(generate_policies(shuffled, Organization())) == first


def test_assume_role_is_narrowed_to_the_specs_role_names() -> None:
    organization = Organization(
        deploy_role="AcmeDeploy",
        access_roles=AccessRoles(readonly="AcmeRO", operator="AcmeOps", breakglass="AcmeBG"),
    )
    statements = {s["Sid"]: s for s in generate_policies(DECLARED, organization)[M]["Statement"]}
    assert statements["AssumeStockadeRoles"]["Resource"] == [
        "arn:aws:iam::*:role/AcmeDeploy",
        "arn:aws:iam::*:role/OrganizationAccountAccessRole",
        "arn:aws:iam::*:role/StockadeReadRole",
        "arn:aws:iam::*:role/StockadeScanRole",
    ]
    assert statements["AssumePeoplesRoles"]["Action"] == [
        "sts:AssumeRole",
        "sts:SetSourceIdentity",
        "sts:TagSession",
    ]
    assert role_names(organization, RoleSet.PEOPLE) == ("AcmeBG", "AcmeOps", "AcmeRO")
    assert statements["OrganizationsServiceLinkedRole"]["Resource"] == (
        "arn:aws:iam::*:role/aws-service-role/organizations.amazonaws.com/*"
    )


def test_an_sts_action_without_its_roles_is_refused() -> None:
    loose = Declared(M, "Cloud.assume_anything", frozenset({"sts:AssumeRole"}))
    with pytest.raises(ValueError, match=r"Cloud\.assume_anything declares sts:AssumeRole"):
        generate_policies([loose], Organization())


def test_the_management_policy_allows_what_was_declared_and_nothing_else() -> None:
    management = generate_policies(DECLARED, Organization())[M]
    assert _decision(management, "organizations:CreateAccount") is DecisionKind.ALLOW
    assert _decision(management, "organizations:CloseAccount") is DecisionKind.IMPLICIT_DENY
    deploy_role = _role("StockadeDeployRole")
    assert _decision(management, "sts:AssumeRole", deploy_role) is DecisionKind.ALLOW
    assert _decision(management, "sts:AssumeRole", _role("Admin")) is DecisionKind.IMPLICIT_DENY
    # people's sessions are tagged; Stockade's own roles never are
    people = _role("StockadeOperatorRole")
    assert _decision(management, "sts:TagSession", people) is DecisionKind.ALLOW
    assert _decision(management, "sts:TagSession", deploy_role) is DecisionKind.IMPLICIT_DENY
    assert _decision(management, "s3:GetObject", "arn:aws:s3:::b/k") is DecisionKind.IMPLICIT_DENY


def test_the_generated_documents_are_valid_policies() -> None:
    for document in generate_policies(DECLARED, Organization()).values():
        assert lint_policy(json.dumps(document)).errors == 0
