"""Benchmark: the sandbox's throughput ceiling on the path a rollout takes.

N accounts each get one stack: CreateChangeSet (CREATE), ExecuteChangeSet, then one
DescribeStacks, sent from T client threads. The template holds one ``AWS::SSM::Parameter``.
Accounts are routed (``--routing``) as Stockade routes them:

- ``shared`` (default): one CloudFormation client for every account, the sandbox hooks adding
  each request's account as ``x-moto-account-id`` (what ``AwsCloud`` does);
- ``per-account``: one client per account, with the same header;
- ``assume-role``: one client per account with credentials from STS AssumeRole on
  ``arn:aws:iam::<account>:role/StockadeDeployRole`` (the server maps each key to its account).

Clients (and the STS calls behind them) are made before the clock starts
(``client_setup_seconds``; the server's CPU meanwhile is ``client_setup_server_cpu_seconds``,
per STS call ``server_cpu_ms_per_assume_role``), and the server is warmed up (moto's
CloudFormation imported).

Prints one JSON object: ``seconds``, ``stacks_per_second``, ``stack_operations_per_second``
(CreateChangeSet and ExecuteChangeSet, as ``/_stockade/stack-operations`` logs them),
``requests_per_second`` (the three requests per account), ``server_cpu_seconds`` and per
request, ``server_ceiling_requests_per_second`` (one request at a time, as the server's lock
allows, at that CPU cost), ``server_peak_rss_bytes``, and the statuses DescribeStacks showed.

    .venv/bin/python bench/sandbox_stacks.py [--accounts 2000] [--threads 32]
        [--stack-seconds 30] [--time-scale 20] [--routing shared|per-account|assume-role]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from stockade.cloud.sandbox.hooks import SandboxHooks
from stockade.cloud.sandbox.process import SandboxProcess
from stockade.domain.quotas import DEFAULT_QUOTAS
from stockade.settings import SandboxSettings

REGION = "us-east-1"
STACK = "tenant-base"
TEMPLATE = """\
Parameters:
  Version:
    Type: String
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/${AWS::StackName}/version"
      Type: String
      Value: !Ref Version
"""


class Clients:
    """boto3 clients of the sandbox, made the way ``--routing`` says."""

    def __init__(self, endpoint_url: str, time_scale: float, routing: str) -> None:
        self._endpoint_url = endpoint_url
        self._routing = routing
        self._hooks = SandboxHooks(DEFAULT_QUOTAS, time_scale, "off", enforce_quotas=False)
        self._session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self._lock = threading.Lock()  # a session is not thread-safe
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": 1}, max_pool_connections=64
        )
        self._acting = threading.local()
        self._shared: Any = None

    def _client(self, service: str, account: Any, **credentials: Any) -> Any:
        with self._lock:
            made = self._session.client(  # type: ignore[call-overload]
                service, endpoint_url=self._endpoint_url, config=self._config, **credentials
            )
        self._hooks.install(made, account=account)
        return made

    def cloudformation(self, account_id: str) -> Any:
        """What acts in ``account_id``: a client of its own, or the shared one."""
        if self._routing == "shared":
            if self._shared is None:
                self._shared = self._client("cloudformation", self._current_account)
            return self._shared
        if self._routing == "per-account":
            return self._client("cloudformation", lambda: account_id)
        credentials = self._client("sts", lambda: None).assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/StockadeDeployRole",
            RoleSessionName="stockade-bench",
        )["Credentials"]
        return self._client(
            "cloudformation",
            lambda: None,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    def _current_account(self) -> str | None:
        return getattr(self._acting, "account_id", None)

    def deploy(self, account_id: str, cfn: Any) -> str:
        """One account's stack through a change set; the status DescribeStacks shows after."""
        self._acting.account_id = account_id
        made = cfn.create_change_set(
            StackName=STACK,
            ChangeSetName="release-1",
            ChangeSetType="CREATE",
            TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": "Version", "ParameterValue": "1"}],
        )
        cfn.execute_change_set(ChangeSetName=made["Id"])
        return str(cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--stack-seconds", type=float, default=30.0, help="AWS seconds")
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument(
        "--routing", default="shared", choices=["shared", "per-account", "assume-role"]
    )
    args = parser.parse_args()

    settings = SandboxSettings(
        time_scale=args.time_scale,
        latency="off",
        enforce_quotas=False,
        stack_seconds=args.stack_seconds,
    )
    state_dir = Path(tempfile.mkdtemp(prefix="stockade-bench-stacks-"))
    with SandboxProcess(state_dir, settings, start_timeout=300) as sandbox:
        clients = Clients(sandbox.endpoint_url, args.time_scale, args.routing)
        clients.cloudformation("999999999999").describe_stacks()  # warm-up, untimed
        accounts = [f"{100_000_000_000 + i:012d}" for i in range(args.accounts)]
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            setup_before = sandbox.usage()
            setup = time.perf_counter()
            per_account = list(pool.map(clients.cloudformation, accounts))
            setup_seconds = time.perf_counter() - setup
            before = sandbox.usage()
            started = time.perf_counter()
            statuses = Counter(pool.map(clients.deploy, accounts, per_account))
            seconds = time.perf_counter() - started
        after = sandbox.usage()
        logged = len(sandbox.stack_operations())
    requests = args.accounts * 3
    cpu = after.cpu_seconds - before.cpu_seconds
    setup_cpu = before.cpu_seconds - setup_before.cpu_seconds
    result = {
        "accounts": args.accounts,
        "threads": args.threads,
        "routing": args.routing,
        "stack_seconds": args.stack_seconds,
        "time_scale": args.time_scale,
        "client_setup_seconds": round(setup_seconds, 3),
        "client_setup_server_cpu_seconds": round(setup_cpu, 2),
        "server_cpu_ms_per_assume_role": (
            round(1000 * setup_cpu / args.accounts, 2) if args.routing == "assume-role" else None
        ),
        "seconds": round(seconds, 3),
        "stacks_per_second": round(args.accounts / seconds, 1),
        "stack_operations_per_second": round(2 * args.accounts / seconds, 1),
        "requests_per_second": round(requests / seconds, 1),
        "server_cpu_seconds": round(cpu, 2),
        "server_cpu_ms_per_request": round(1000 * cpu / requests, 2),
        "server_ceiling_requests_per_second": round(requests / cpu, 1) if cpu else None,
        "server_cpu_share": round(cpu / seconds, 2),
        "server_peak_rss_bytes": after.peak_rss_bytes,
        "client_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "stack_operations_logged": logged,
        "describe_statuses": dict(statuses),
    }
    print(json.dumps(result))
    return 0 if logged == 2 * args.accounts else 1


if __name__ == "__main__":
    sys.exit(main())
