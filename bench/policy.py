"""Benchmark: policy decisions per second on one core, for a realistic request.

The scenario: a role session in a member account reads an S3 object in the same account. It is
governed by 5 SCPs over 3 levels (FullAWSAccess at every level, as AWS attaches it; at the root
a guardrail SCP denying leaving the organization and changes to the platform role unless the
caller is the platform admin role; at the OU a region deny with NotAction and a CloudTrail/Config
protection deny), has 3 identity policies
with conditions (S3 per-team prefixes through ``${aws:PrincipalTag/team}``, DynamoDB with a
``ForAllValues`` attribute condition, EC2 describes limited by ``IpAddress``) and the bucket has
a resource policy (``aws:SecureTransport`` deny plus an allow for the account with an
``aws:PrincipalOrgID`` condition). Requests vary over 12 action/resource/context variants (allows,
explicit denies and implicit denies), so the result is not one cached answer.

What is measured:

* ``decisions_per_second``: ``evaluate(request, policies)`` on prebuilt requests with policies
  compiled once and reused across requests - as a simulate batch or a guardrail run does (both
  compile each distinct policy once through a ``PolicyCache`` and share one ``PolicySet``, whose
  per-action plan - which statements name the action - is memoised). This is the number the
  target (>= 50,000/s) is about. Decisions include their explanations.
* ``fresh_plan_decisions_per_second``: the same, but with a new ``PolicySet`` per request, so the
  per-action plan is rebuilt every time (policies still compiled once).
* ``batch_lines_per_second``: the whole ``policy simulate`` path per input line - JSON decoding,
  policy lookup in a shared ``PolicyCache`` (by canonical JSON text), request building,
  evaluation and JSON output.
* ``cold_decisions_per_second``: the same but with a fresh cache per line, so every policy of
  every line is parsed and compiled again (the worst case: nothing shared).

The process is pinned to one CPU where the OS allows it. Prints one JSON object.

    .venv/bin/python bench/policy.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from stockade.policy import PolicyCache, PolicySet, evaluate, make_request, principal_from_arn
from stockade.policy.simulate import simulate_line

ACCOUNT = "111122223333"
ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-team-a/i-0123456789"
V = "2012-10-17"

FULL_ACCESS: dict[str, Any] = {
    "Version": V,
    "Id": "FullAWSAccess",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

SCPS: list[list[dict[str, Any]]] = [
    [
        FULL_ACCESS,
        {
            "Version": V,
            "Id": "OrgGuardrails",
            "Statement": [
                {
                    "Sid": "DenyLeave",
                    "Effect": "Deny",
                    "Action": ["organizations:LeaveOrganization", "account:CloseAccount"],
                    "Resource": "*",
                },
                {
                    "Sid": "ProtectPlatformRole",
                    "Effect": "Deny",
                    "Action": ["iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRole"],
                    "Resource": "arn:aws:iam::*:role/platform-*",
                    "Condition": {
                        "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/platform-admin"}
                    },
                },
            ],
        },
    ],
    [
        FULL_ACCESS,
        {
            "Version": V,
            "Id": "TenantOu",
            "Statement": [
                {
                    "Sid": "DenyOtherRegions",
                    "Effect": "Deny",
                    "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*", "route53:*"],
                    "Resource": "*",
                    "Condition": {
                        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}
                    },
                },
                {
                    "Sid": "ProtectAudit",
                    "Effect": "Deny",
                    "Action": [
                        "cloudtrail:StopLogging",
                        "cloudtrail:DeleteTrail",
                        "config:DeleteConfigurationRecorder",
                        "config:StopConfigurationRecorder",
                    ],
                    "Resource": "*",
                },
            ],
        },
    ],
    [FULL_ACCESS],
]

IDENTITY: list[dict[str, Any]] = [
    {
        "Version": V,
        "Statement": [
            {
                "Sid": "TeamPrefix",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::tenant-data/${aws:PrincipalTag/team}/*",
            },
            {
                "Sid": "ListTeamPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::tenant-data",
                "Condition": {"StringLike": {"s3:prefix": ["${aws:PrincipalTag/team}/*"]}},
            },
        ],
    },
    {
        "Version": V,
        "Statement": [
            {
                "Sid": "Tables",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                "Resource": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders",
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "status", "total"]},
                    "Null": {"dynamodb:Attributes": "false"},
                },
            }
        ],
    },
    {
        "Version": V,
        "Statement": [
            {
                "Sid": "Describe",
                "Effect": "Allow",
                "Action": "ec2:Describe*",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
            },
            {
                "Sid": "NoDeletes",
                "Effect": "Deny",
                "Action": ["s3:DeleteObject", "dynamodb:DeleteItem"],
                "Resource": "*",
            },
        ],
    },
]

BUCKET_POLICY: dict[str, Any] = {
    "Version": V,
    "Statement": [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::tenant-data", "arn:aws:s3:::tenant-data/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "OrgRead",
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::tenant-data", "arn:aws:s3:::tenant-data/*"],
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg"}},
        },
    ],
}

BASE_CONTEXT = {
    "aws:RequestedRegion": "eu-west-1",
    "aws:SecureTransport": True,
    "aws:SourceIp": "10.1.2.3",
    "aws:PrincipalOrgID": "o-exampleorg",
}

#: (action, resource, extra context): allows, explicit denies and implicit denies
VARIANTS: list[tuple[str, str, dict[str, Any]]] = [
    ("s3:GetObject", "arn:aws:s3:::tenant-data/team-a/report.csv", {}),
    ("s3:PutObject", "arn:aws:s3:::tenant-data/team-a/upload.bin", {}),
    ("s3:GetObject", "arn:aws:s3:::tenant-data/team-b/secret.csv", {}),
    ("s3:ListBucket", "arn:aws:s3:::tenant-data", {"s3:prefix": "team-a/2024/"}),
    ("s3:GetObject", "arn:aws:s3:::tenant-data/team-a/x", {"aws:SecureTransport": False}),
    ("s3:DeleteObject", "arn:aws:s3:::tenant-data/team-a/x", {}),
    (
        "dynamodb:GetItem",
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders",
        {"dynamodb:Attributes": ["id", "status"]},
    ),
    (
        "dynamodb:Query",
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders",
        {"dynamodb:Attributes": ["id", "secret"]},
    ),
    ("ec2:DescribeInstances", "*", {}),
    ("ec2:DescribeInstances", "*", {"aws:RequestedRegion": "us-east-1"}),
    ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/platform-deploy", {}),
    ("organizations:LeaveOrganization", "*", {}),
]


def _line(number: int, action: str, resource: str, extra: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": number,
            "request": {
                "principal": {"arn": ROLE_SESSION, "tags": {"team": "team-a"}},
                "action": action,
                "resource": resource,
                "context": {**BASE_CONTEXT, **extra},
            },
            "identity_policies": IDENTITY,
            "resource_policy": BUCKET_POLICY,
            "scps": SCPS,
        }
    )


def _rate(run_once: Callable[[int], None], seconds: float) -> tuple[int, float]:
    """Call ``run_once(i)`` until ``seconds`` have passed; (calls, elapsed)."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(200):
            run_once(count)
            count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count, now - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    cache = PolicyCache()
    policies = PolicySet(
        identity=tuple(cache.get(p) for p in IDENTITY),
        resource=cache.get(BUCKET_POLICY),
        scps=tuple(tuple(cache.get(p) for p in level) for level in SCPS),
    )
    principal = principal_from_arn(ROLE_SESSION, tags={"team": "team-a"})
    requests = [
        make_request(principal, action, resource, context={**BASE_CONTEXT, **extra})
        for action, resource, extra in VARIANTS
    ]
    outcomes = [evaluate(r, policies).kind.value for r in requests]
    n = len(requests)

    def warm(i: int) -> None:
        evaluate(requests[i % n], policies)

    def fresh_plan(i: int) -> None:
        fresh = PolicySet(
            identity=policies.identity, resource=policies.resource, scps=policies.scps
        )
        evaluate(requests[i % n], fresh)

    lines = [_line(i, *variant) for i, variant in enumerate(VARIANTS)]
    shared = PolicyCache()

    def batch(i: int) -> None:
        simulate_line(lines[i % n], shared)

    def cold(i: int) -> None:
        simulate_line(lines[i % n], PolicyCache())

    decisions, elapsed = _rate(warm, args.seconds)
    fresh_count, fresh_elapsed = _rate(fresh_plan, args.seconds / 2)
    batch_count, batch_elapsed = _rate(batch, args.seconds / 2)
    cold_count, cold_elapsed = _rate(cold, args.seconds / 2)
    print(
        json.dumps(
            {
                "decisions_per_second": round(decisions / elapsed),
                "decisions": decisions,
                "seconds": round(elapsed, 3),
                "microseconds_per_decision": round(elapsed / decisions * 1e6, 2),
                "fresh_plan_decisions_per_second": round(fresh_count / fresh_elapsed),
                "batch_lines_per_second": round(batch_count / batch_elapsed),
                "cold_decisions_per_second": round(cold_count / cold_elapsed),
                "policies_per_request": {"scps": 5, "scp_levels": 3, "identity": 3, "resource": 1},
                "request_variants": n,
                "outcomes": outcomes,
                "python": platform.python_version(),
                "implementation": sys.implementation.name,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
