"""The sandbox's STS realism through a real sandbox server: AssumeRole refused where AWS refuses
it (duration over the role's maximum or the role-chaining hour, bad session names, source
identities and tags), and passed on to moto otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sandbox_support import client, client_in

from stockade.cloud.sandbox.process import SandboxProcess

ACCOUNT = "210987654321"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def _role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@pytest.fixture(scope="module")
def sts(shared_sandbox: SandboxProcess) -> Any:
    iam = client_in(shared_sandbox, "iam", ACCOUNT)
    iam.create_role(RoleName="OneHour", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=3600)
    iam.create_role(RoleName="Long", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=43200)
    # botocore checks some bounds itself: switched off, so the sandbox's checks are tested
    return client(shared_sandbox, "sts", config=Config(parameter_validation=False))


def _assume(sts: Any, role: str = "OneHour", **params: Any) -> dict[str, Any]:
    request = {"RoleArn": _role(role), "RoleSessionName": "alice", **params}
    response: dict[str, Any] = sts.assume_role(**request)
    return response


def _refusal(sts: Any, role: str = "OneHour", **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        _assume(sts, role, **params)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Message"])


def test_a_valid_person_session_is_issued(sts: Any) -> None:
    response = _assume(
        sts,
        SourceIdentity="alice@example.com",
        Tags=[{"Key": "stockade:tenant", "Value": "acme"}, {"Key": "stockade:reason", "Value": ""}],
        DurationSeconds=3600,
    )
    assert response["AssumedRoleUser"]["Arn"].endswith(":assumed-role/OneHour/alice")


@pytest.mark.parametrize(
    ("role", "seconds", "mentions"),
    [
        ("OneHour", 3601, "MaxSessionDuration"),
        ("OneHour", 899, "durationSeconds"),
        ("Long", 43201, "durationSeconds"),
    ],
)
def test_durations_aws_refuses_are_refused(
    sts: Any, role: str, seconds: int, mentions: str
) -> None:
    assert mentions in _refusal(sts, role, DurationSeconds=seconds)


def test_a_role_chain_is_capped_at_one_hour(shared_sandbox: SandboxProcess, sts: Any) -> None:
    assert _assume(sts, "Long", DurationSeconds=7200)["Credentials"]["AccessKeyId"]
    creds = _assume(sts, "Long")["Credentials"]
    chained = client(
        shared_sandbox,
        "sts",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(parameter_validation=False),
    )
    assert "role chaining" in _refusal(chained, "Long", DurationSeconds=7200)
    assert _assume(chained, "Long", DurationSeconds=3600)["Credentials"]["AccessKeyId"]


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"RoleSessionName": "a"}, "roleSessionName"),
        ({"RoleSessionName": "alice smith"}, "roleSessionName"),
        ({"SourceIdentity": "Zoë"}, "sourceIdentity"),
        ({"SourceIdentity": "aws:me"}, "aws:"),
        ({"Tags": [{"Key": "k", "Value": "semi;colon"}]}, "tag value"),
        ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]}, "Duplicate tag"),
    ],
)
def test_names_and_tags_aws_refuses_are_refused(
    sts: Any, params: dict[str, Any], mentions: str
) -> None:
    assert mentions in _refusal(sts, **params)
