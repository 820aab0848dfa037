"""``AwsCloud``: the ``CloudPort`` adapter — builds boto3 clients for the management account and
for tenant accounts (one shared client per service and region for all tenant accounts, each call
acting in one account through STS: see ``cloud.aws.acting``).

Every client gets the rate budget on botocore's ``before-call`` event (so no call leaves faster
than the quotas allow, per account) and any extra hooks the caller passes (the sandbox's realism
hooks). Assumed-role credentials and clients are cached per instance, never globally. Once the
injected ``StopSignal`` is stopped, every request attempt raises ``EngineStopping`` instead of
being sent.

Who calls it: the composition root (``stockade.server``) builds one per process and hands it to
the engine as a ``CloudPort``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from stockade.cloud.aws.acting import TenantAccounts
from stockade.cloud.aws.cloudformation import CloudFormationStacks
from stockade.cloud.aws.iam_scan import IamCredentials
from stockade.cloud.aws.organizations import Organizations
from stockade.cloud.aws.permissions import requires
from stockade.cloud.aws.sts import assume_role
from stockade.cloud.budget import RateBudget
from stockade.cloud.ports import IssuedCredentials
from stockade.lifecycle import StopSignal

MANAGEMENT = "management"
#: IAM is a global service homed in us-east-1
IAM_REGION = "us-east-1"


class ClientHook(Protocol):
    """Something that registers handlers on a new client's event system (sandbox realism).
    ``account()`` names the account a request acts in (None: the management account)."""

    def install(self, client: BaseClient, *, account: Callable[[], str | None]) -> None: ...


@dataclass(frozen=True)
class StaticCredentials:
    """Explicit credentials (the sandbox's); AWS deployments use the default credential chain."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:
        return f"StaticCredentials(access_key_id={self.access_key_id!r})"


@dataclass(frozen=True)
class AwsTarget:
    """Where the adapters send requests: AWS itself (``endpoint_url`` None) or the sandbox."""

    region: str
    endpoint_url: str | None = None
    credentials: StaticCredentials | None = None
    #: one pool per client, shared by every tenant account and thread: keep above the number
    #: of threads calling at once (a rollout's max_in_flight), or connections are reopened
    max_pool_connections: int = 512
    max_attempts: int = 4


class AwsCloud:
    """Implements ``cloud.ports.CloudPort`` with boto3."""

    def __init__(
        self,
        *,
        target: AwsTarget,
        budget: RateBudget,
        hooks: Sequence[ClientHook] = (),
        session_name: str = "stockade",
        clock: Callable[[], float] = time.time,
        stop: StopSignal | None = None,
    ) -> None:
        creds = target.credentials
        self._session = boto3.Session(
            region_name=target.region,
            aws_access_key_id=creds.access_key_id if creds else None,
            aws_secret_access_key=creds.secret_access_key if creds else None,
        )
        self._target = target
        self._budget = budget
        self._hooks = tuple(hooks)
        self._clock = clock
        self._stop = stop or StopSignal()
        self._config = Config(
            retries={"mode": "standard", "max_attempts": target.max_attempts},
            max_pool_connections=target.max_pool_connections,
        )
        #: for calls that must never be re-sent blindly (CreateAccount): a retry after a lost
        #: response would create a second account; the engine's step retries instead, after
        #: looking the first request up
        self._single_shot = self._config.merge(Config(retries={"total_max_attempts": 1}))
        self._lock = threading.Lock()
        # boto3 sessions are not safe for concurrent client creation
        self._create_lock = threading.Lock()
        self._management: dict[str, BaseClient] = {}
        self._tenant_clients: dict[str, BaseClient] = {}
        self._accounts = TenantAccounts(
            sts=lambda: self._management_client("sts"), session_name=session_name, clock=clock
        )

    # -- clients ---------------------------------------------------------------------------

    def _new_client(
        self,
        service: str,
        *,
        region: str,
        account: Callable[[], str | None],
        single_shot: bool = False,
    ) -> Any:
        kwargs: dict[str, Any] = {
            "region_name": region,
            "config": self._single_shot if single_shot else self._config,
            "endpoint_url": self._target.endpoint_url,
        }
        with self._create_lock:
            client: BaseClient = self._session.client(service, **kwargs)  # type: ignore[call-overload]

        def wait_for_budget(model: Any, **_: Any) -> None:
            self._budget.wait(
                account=account() or MANAGEMENT,
                service=client.meta.service_model.service_name,
                operation=model.name,
            )

        def refuse_when_stopping(**_: Any) -> None:
            self._stop.check()  # every attempt, botocore's retries included

        client.meta.events.register("before-call", wait_for_budget)
        client.meta.events.register("before-send", refuse_when_stopping)
        for hook in self._hooks:
            hook.install(client, account=account)
        return client

    def _management_client(
        self, service: str, region: str | None = None, *, single_shot: bool = False
    ) -> Any:
        key = f"{service}@{region or self._target.region}{'!' if single_shot else ''}"
        with self._lock:
            client = self._management.get(key)
            if client is None:
                client = self._new_client(
                    service,
                    region=region or self._target.region,
                    account=_no_account,
                    single_shot=single_shot,
                )
                self._management[key] = client
            return client

    # -- ports -----------------------------------------------------------------------------

    @requires()  # builds the adapter; its methods declare their own calls
    def organizations(self) -> Organizations:
        # Organizations is a global service homed in us-east-1
        return Organizations(
            self._management_client("organizations", "us-east-1"),
            create_client=self._management_client("organizations", "us-east-1", single_shot=True),
        )

    @requires()  # sts:GetCallerIdentity needs no permission: AWS allows it even under a deny
    def management_account_id(self) -> str:
        return str(self._management_client("sts").get_caller_identity()["Account"])

    @requires()  # the role is assumed lazily, by the adapter's first call (``acting``)
    def stacks(self, *, account_id: str, role_name: str, region: str) -> CloudFormationStacks:
        return CloudFormationStacks(
            self._tenant_client("cloudformation", region),
            scope=lambda: self._accounts.acting(account_id, role_name),
        )

    @requires()  # the role is assumed lazily, by the adapter's first call (``acting``)
    def credentials(self, *, account_id: str, role_name: str) -> IamCredentials:
        # IAM is global: its one endpoint is in us-east-1 (the sandbox's is everywhere)
        return IamCredentials(
            self._tenant_client("iam", IAM_REGION),
            account_id=account_id,
            scope=lambda: self._accounts.acting(account_id, role_name),
        )

    @requires("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")
    def issue_session(
        self,
        *,
        account_id: str,
        role_name: str,
        session_name: str,
        source_identity: str,
        tags: Mapping[str, str],
        duration_seconds: int,
    ) -> IssuedCredentials:
        """A person's session, assumed with the management account's own client (never the
        cached tenant credentials, never cached itself)."""
        return assume_role(
            self._management_client("sts"),
            role_arn=f"arn:aws:iam::{account_id}:role/{role_name}",
            session_name=session_name,
            source_identity=source_identity,
            tags=tags,
            duration_seconds=duration_seconds,
        )

    def _tenant_client(self, service: str, region: str) -> Any:
        """The one client of ``service`` in ``region`` that every tenant account shares."""
        key = f"{service}@{region}"
        with self._lock:
            client = self._tenant_clients.get(key)
            if client is None:
                client = self._new_client(
                    service, region=region, account=self._accounts.current_account
                )
                self._accounts.install(client)
                self._tenant_clients[key] = client
            return client


def _no_account() -> None:
    return None
