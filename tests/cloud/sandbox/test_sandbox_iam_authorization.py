"""IAM authorization in the sandbox (``SandboxSettings(iam_authorization=True)``).

One sandbox for the module: the admin (the sandbox credentials) builds an organization, a
tenant account, a narrow IAM user and, through the org access role, a role in the tenant made by
CloudFormation. Then every request is checked: unknown keys and bad signatures are refused, the
user may make exactly the calls its policy allows (``sts:AssumeRole`` on the roles it names
only), and a session of the tenant role exactly what the role's inline policy allows. Refusals
come in each protocol's shape, and the state survives a restart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import FAST, client

from stockade.cloud.sandbox.iam_authorization import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY
from stockade.cloud.sandbox.process import SandboxProcess

SETTINGS = FAST.model_copy(update={"iam_authorization": True, "create_account_delay": 0.0})
ADMIN = {"aws_access_key_id": ADMIN_ACCESS_KEY_ID, "aws_secret_access_key": ADMIN_SECRET_ACCESS_KEY}
ROLE = "Reader"
TEMPLATE = json.dumps(
    {
        "Resources": {
            "Reader": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": ROLE,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "read",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": "cloudformation:DescribeStacks",
                                        "Resource": "*",
                                    }
                                ],
                            },
                        }
                    ],
                },
            }
        }
    }
)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _session(sandbox: SandboxProcess, service: str, credentials: dict[str, Any]) -> Any:
    return client(
        sandbox,
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
    )


def _code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state = tmp_path_factory.mktemp("iam-auth")
    with SandboxProcess(state, SETTINGS) as sandbox:
        org = client(sandbox, "organizations", **ADMIN)
        org.create_organization(FeatureSet="ALL")
        created = org.create_account(Email="t@example.com", AccountName="t")
        status = org.describe_create_account_status(
            CreateAccountRequestId=created["CreateAccountStatus"]["Id"]
        )["CreateAccountStatus"]
        tenant = status["AccountId"]
        admin_sts = client(sandbox, "sts", **ADMIN)
        org_access = admin_sts.assume_role(
            RoleArn=f"arn:aws:iam::{tenant}:role/OrganizationAccountAccessRole",
            RoleSessionName="setup",
        )["Credentials"]
        _session(sandbox, "cloudformation", org_access).create_stack(
            StackName="roles", TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_NAMED_IAM"]
        )
        iam = client(sandbox, "iam", **ADMIN)
        iam.create_user(UserName="stockade")
        iam.put_user_policy(
            UserName="stockade",
            PolicyName="narrow",
            PolicyDocument=_policy(
                {"Effect": "Allow", "Action": "organizations:ListRoots", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": f"arn:aws:iam::*:role/{ROLE}",
                },
            ),
        )
        key = iam.create_access_key(UserName="stockade")["AccessKey"]
        yield {"sandbox": sandbox, "state": state, "tenant": tenant, "key": key}


def test_unknown_keys_and_bad_signatures_are_refused(world: dict[str, Any]) -> None:
    sandbox = world["sandbox"]
    with pytest.raises(ClientError) as unknown:
        client(sandbox, "organizations").list_roots()  # the tests' usual "testing" key
    assert _code(unknown) == "UnrecognizedClientException"
    forged = {**world["key"], "SecretAccessKey": "not-the-secret"}
    with pytest.raises(ClientError) as bad:
        _session(sandbox, "sts", forged).get_caller_identity()
    assert _code(bad) == "SignatureDoesNotMatch"


def test_a_user_may_make_exactly_the_calls_its_policy_allows(world: dict[str, Any]) -> None:
    sandbox, key, tenant = world["sandbox"], world["key"], world["tenant"]
    org = _session(sandbox, "organizations", key)
    assert org.list_roots()["Roots"]
    with pytest.raises(ClientError) as denied:
        org.list_accounts()
    assert _code(denied) == "AccessDeniedException"
    message = denied.value.response["Error"]["Message"]
    assert message.endswith(
        "user/stockade is not authorized to perform: organizations:ListAccounts"
    )
    sts = _session(sandbox, "sts", key)
    assert sts.get_caller_identity()["Arn"].endswith(":user/stockade")  # needs no permission
    with pytest.raises(ClientError) as elsewhere:
        sts.assume_role(
            RoleArn=f"arn:aws:iam::{tenant}:role/OrganizationAccountAccessRole",
            RoleSessionName="stockade",
        )
    assert _code(elsewhere) == "AccessDenied"


def test_a_role_session_may_make_exactly_the_calls_its_role_allows(world: dict[str, Any]) -> None:
    sandbox, tenant = world["sandbox"], world["tenant"]
    sts = _session(sandbox, "sts", world["key"])
    session = sts.assume_role(
        RoleArn=f"arn:aws:iam::{tenant}:role/{ROLE}", RoleSessionName="stockade"
    )["Credentials"]
    cloudformation = _session(sandbox, "cloudformation", session)
    assert [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]] == ["roles"]
    with pytest.raises(ClientError) as denied:
        cloudformation.delete_stack(StackName="roles")
    assert _code(denied) == "AccessDenied"
    assert f"assumed-role/{ROLE}/stockade" in denied.value.response["Error"]["Message"]


def test_the_users_and_roles_survive_a_restart(world: dict[str, Any]) -> None:
    sandbox = world["sandbox"]
    sandbox.stop()
    sandbox.start()
    assert sandbox.restored_requests > 0
    assert _session(sandbox, "organizations", world["key"]).list_roots()["Roots"]
    with pytest.raises(ClientError) as denied:
        _session(sandbox, "organizations", world["key"]).list_accounts()
    assert _code(denied) == "AccessDeniedException"
    assert client(sandbox, "organizations", **ADMIN).list_accounts()["Accounts"]
