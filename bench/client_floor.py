"""Benchmark: what one AWS request costs the *client* in CPU, with nothing of Stockade around it.

A plain boto3 client (no rate budget, no hooks but the sandbox's account header) sends the
requests a rollout's stack operation is made of — AssumeRole, DescribeStacks, CreateChangeSet
(with a one-resource template), DescribeChangeSet, ExecuteChangeSet — one at a time, against the
sandbox, and this process's CPU (and the sandbox's) is divided by the number of requests. It is
the floor under ``cpu_seconds_per_operation`` in ``bench/rollout.py``: botocore's own cost of
building, signing, sending and parsing each request, which no change to Stockade removes.

Prints one JSON object: per request kind ``client_cpu_ms`` and ``sandbox_cpu_ms``, and
``requests_per_stack_operation`` (what Stockade sends per stack today, measured by
``bench/rollout.py``'s sandbox log: 1 AssumeRole per tenant, 2 DescribeStacks, 1 of each change
set call) with the CPU floor per stack operation that follows, on each side.

    .venv/bin/python bench/client_floor.py [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stockade.cloud.sandbox.process import SandboxProcess
from stockade.settings import SandboxSettings

ACCOUNT = "123456789012"
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/bench/${AWS::StackName}"
      Type: String
      Value: "1"
"""
#: what bench/rollout.py's runs show Stockade sends per stack operation (S = 1)
PER_OPERATION = {
    "AssumeRole": 1,
    "DescribeStacks": 2,
    "CreateChangeSet": 1,
    "DescribeChangeSet": 1,
    "ExecuteChangeSet": 1,
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind")
    args = parser.parse_args()
    n = args.requests
    settings = SandboxSettings(time_scale=1000, latency="off", stack_seconds=0.0)
    with SandboxProcess(Path(tempfile.mkdtemp(prefix="stockade-bench-floor-")), settings) as sb:
        cfn = sb.client("cloudformation", account_id=ACCOUNT)
        sts = sb.client("sts", account_id=ACCOUNT)
        counter = iter(range(10**9))

        def create() -> Any:
            return cfn.create_change_set(
                StackName=f"bench-{next(counter)}",
                ChangeSetName="cs",
                ChangeSetType="CREATE",
                TemplateBody=TEMPLATE,
            )

        made = [create() for _ in range(n)]  # the stacks the other kinds then work on
        kinds: dict[str, Callable[[int], Any]] = {
            "AssumeRole": lambda i: sts.assume_role(
                RoleArn=f"arn:aws:iam::{ACCOUNT}:role/StockadeDeployRole",
                RoleSessionName="bench",
            ),
            "DescribeStacks": lambda i: cfn.describe_stacks(StackName=made[i]["StackId"]),
            "CreateChangeSet": lambda i: create(),
            "DescribeChangeSet": lambda i: cfn.describe_change_set(ChangeSetName=made[i]["Id"]),
            "ExecuteChangeSet": lambda i: cfn.execute_change_set(ChangeSetName=made[i]["Id"]),
        }
        result: dict[str, dict[str, float]] = {}
        for kind, call in kinds.items():
            call(0) if kind != "ExecuteChangeSet" else None  # warm up
            cpu0, sb0 = _cpu(), sb.usage().cpu_seconds
            for i in range(n):
                call(i)
            result[kind] = {
                "client_cpu_ms": round((_cpu() - cpu0) / n * 1000, 3),
                "sandbox_cpu_ms": round((sb.usage().cpu_seconds - sb0) / n * 1000, 3),
            }
    floor = {
        side: round(sum(result[k][f"{side}_cpu_ms"] * c for k, c in PER_OPERATION.items()), 2)
        for side in ("client", "sandbox")
    }
    print(
        json.dumps(
            {
                "requests_per_kind": n,
                "per_request": result,
                "requests_per_stack_operation": PER_OPERATION,
                "client_cpu_ms_per_stack_operation_floor": floor["client"],
                "sandbox_cpu_ms_per_stack_operation_floor": floor["sandbox"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
