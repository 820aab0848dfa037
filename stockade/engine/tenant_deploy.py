"""Deploying one tenant to one release: its stack changes, through change sets, in order.

``TenantDeployer.deploy`` plans the tenant (``domain.plan.plan_tenant``) against what Stockade
last observed in its account and recorded, then, in the plan's order, creates or updates each
stack through a CloudFormation change set in the tenant account (through the deploy role the
baseline creates, never the org access role) and deletes what the release no longer wants.
Each stack is waited for, with the engine's stack timeout (a stack stuck in progress ends as a
failed deployment), and recorded with its new observed state in one transaction.

Idempotent for one ``change_set_name``: after a crash the same call resumes the change set the
first one created or executed (``StacksPort.deploy_stack``), so no stack operation is started
twice; a stack the plan finds already at the target but still in progress is waited for, and
recorded. Transient errors (throttling, a stack busy with another operation) are retried here
with backoff; anything else fails the tenant with one line saying what and where.

Who calls it: ``engine.wave_runner`` (rollouts).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from stockade.cloud.ports import CloudPort, StackInfo, StacksPort
from stockade.domain.errors import StackDeploymentFailed, StockadeError
from stockade.domain.plan import Action, StackAction, plan_tenant
from stockade.domain.release import Release, TenantOverrides
from stockade.domain.stacks import (
    DeployedStack,
    DesiredStack,
    RecordedStack,
    desired_stacks,
    stack_tags,
)
from stockade.domain.tenant import Tenant
from stockade.engine.deploy import stack_parameters
from stockade.engine.durations import StackDurations
from stockade.engine.timing import EngineTiming
from stockade.store.deployments import DeploymentRepository
from stockade.store.templates import TemplateRepository

__all__ = ["DeployTarget", "TenantDeployResult", "TenantDeployer"]

_T = TypeVar("_T")
#: transient failures retried per stack operation before the tenant fails
_TRANSIENT_ATTEMPTS = 6


@dataclass(frozen=True)
class DeployTarget:
    """Where and as whom the engine deploys: the same for every tenant of a rollout."""

    role_name: str
    region: str
    management_account_id: str


@dataclass(frozen=True)
class TenantDeployResult:
    #: stack operations this call started (change sets executed, stacks deleted)
    operations: int
    #: "create stockade-svc-orders", ... in order
    changes: tuple[str, ...]


class TenantDeployer:
    def __init__(
        self,
        *,
        cloud: CloudPort,
        deployments: DeploymentRepository,
        templates: TemplateRepository,
        timing: EngineTiming,
        durations: StackDurations,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cloud = cloud
        self._deployments = deployments
        self._templates = templates
        self._timing = timing
        self._durations = durations
        self._sleep = sleep
        self._clock = clock

    def deploy(
        self,
        tenant: Tenant,
        release: Release,
        *,
        target: DeployTarget,
        overrides: TenantOverrides,
        releases_by_id: Mapping[str, Release],
        deployed: Sequence[DeployedStack],
        recorded: Sequence[RecordedStack],
        change_set_name: str,
        on_operation: Callable[[], None] = lambda: None,
    ) -> TenantDeployResult:
        """Bring the tenant's account to ``release``; raises ``StockadeError`` on failure."""
        if tenant.account_id is None:
            raise StackDeploymentFailed(
                f"tenant {tenant.tenant_id!r} has no AWS account yet",
                hint="finish its onboarding (`stockade tenant retry`), then resume the rollout",
            )
        known = {**releases_by_id, release.release_id: release}
        desired = desired_stacks(release, tenant.tier, overrides, known)
        plan = plan_tenant(
            tenant.tenant_id, desired, deployed, recorded, release=release, tier=tenant.tier
        )
        stacks = self._cloud.stacks(
            account_id=tenant.account_id, role_name=target.role_name, region=target.region
        )
        operations = 0
        changes: list[str] = []
        for action in plan.actions:
            if action.action in (Action.CREATE, Action.UPDATE) and action.desired is not None:
                started = self._apply(
                    stacks,
                    tenant,
                    action.desired,
                    target=target,
                    change_set_name=change_set_name,
                    on_operation=on_operation,
                )
            elif action.action is Action.DELETE:
                started = self._delete(stacks, tenant, action, on_operation)
            elif action.desired is not None and action.deployed is not None:
                self._settle(stacks, tenant, action.desired, action.deployed)
                continue
            else:
                continue
            operations += started
            changes.append(f"{action.action.value} {action.stack_name}")
        return TenantDeployResult(operations=operations, changes=tuple(changes))

    # -- one stack -----------------------------------------------------------------------

    def _apply(
        self,
        stacks: StacksPort,
        tenant: Tenant,
        desired: DesiredStack,
        *,
        target: DeployTarget,
        change_set_name: str,
        on_operation: Callable[[], None],
    ) -> int:
        template = self._templates.get(desired.template_sha256)
        parameters = stack_parameters(
            desired,
            template,
            tenant_id=tenant.tenant_id,
            management_account_id=target.management_account_id,
        )
        start = self._retrying(
            lambda: stacks.deploy_stack(
                name=desired.stack_name,
                template_body=template.body,
                parameters=parameters,
                tags=stack_tags(tenant.tenant_id, desired),
                change_set_name=change_set_name,
                timeout=self._timing.stack_timeout,
                poll_interval=self._timing.change_set_poll_interval,
                sleep=self._sleep,
                clock=self._clock,
            )
        )
        started = int(start.executed and not start.resumed)
        if started:
            on_operation()
        if start.executed:
            final = self._wait(stacks, desired.stack_name, kind=start.change_set_type)
        else:  # no changes: the stack already is what the release wants
            found = stacks.get_stack(name=desired.stack_name)
            if found is None:
                raise StackDeploymentFailed(f"stack {desired.stack_name!r} vanished")
            final = found
        self._record(tenant, desired, final)
        return started

    def _settle(
        self, stacks: StacksPort, tenant: Tenant, desired: DesiredStack, deployed: DeployedStack
    ) -> None:
        """A stack already at the target: wait if it is still in progress (an operation of an
        earlier attempt), and record it if the record is missing or behind."""
        if deployed.status.endswith("_IN_PROGRESS"):
            final = self._wait(stacks, desired.stack_name, kind="resume")
            self._record(tenant, desired, final)

    def _delete(
        self,
        stacks: StacksPort,
        tenant: Tenant,
        action: StackAction,
        on_operation: Callable[[], None],
    ) -> int:
        name = action.stack_name
        info = stacks.get_stack(name=name)
        started = 0
        if info is not None and info.status != "DELETE_IN_PROGRESS":
            self._retrying(lambda: stacks.delete_stack(name=name))
            on_operation()
            started = 1
        if info is not None:
            self._wait_deleted(stacks, name, info.stack_id)
        self._deployments.forget(tenant.tenant_id, name)
        return started

    def _wait(self, stacks: StacksPort, name: str, *, kind: str) -> StackInfo:
        began = self._clock()
        plan = self._durations.plan(kind)
        if plan.first_wait > 0:
            self._sleep(plan.first_wait)
        final = stacks.wait_stack(
            name=name,
            timeout=max(0.0, self._timing.stack_timeout - (self._clock() - began)),
            poll_interval=plan.interval,
            backoff=plan.backoff,
            max_poll_interval=plan.max_interval,
            sleep=self._sleep,
            clock=self._clock,
        )
        self._durations.observe(kind, self._clock() - began)
        return final

    def _wait_deleted(self, stacks: StacksPort, name: str, stack_id: str) -> None:
        """Poll the stack by id (a deleted stack is still described by id) until it is gone."""
        began = self._clock()
        plan = self._durations.plan("DELETE")
        if plan.first_wait > 0:
            self._sleep(plan.first_wait)
        interval = plan.interval
        while True:
            info = stacks.get_stack(name=stack_id)
            if info is None or info.status == "DELETE_COMPLETE":
                self._durations.observe("DELETE", self._clock() - began)
                return
            if not info.in_progress:
                raise StackDeploymentFailed(
                    f"stack {name!r} ended {info.status} while being deleted"
                    + (f": {info.reason}" if info.reason else ""),
                    hint="delete it in the tenant account, then resume the rollout",
                )
            if self._clock() - began > self._timing.stack_timeout:
                raise StackDeploymentFailed(
                    f"stack {name!r} still {info.status} after {self._timing.stack_timeout:.0f} s",
                    hint="check the stack in the tenant account, then resume the rollout",
                )
            self._sleep(interval)
            interval = min(interval * plan.backoff, plan.max_interval)

    def _record(self, tenant: Tenant, desired: DesiredStack, final: StackInfo) -> None:
        self._deployments.record(
            tenant.tenant_id,
            RecordedStack.from_desired(desired),
            status=final.status,
            stack_id=final.stack_id,
            observed=DeployedStack.from_tags(final.name, final.status, final.tags),
        )

    def _retrying(self, call: Callable[[], _T]) -> _T:
        delay = self._timing.stack_poll_interval / 2
        for attempt in range(1, _TRANSIENT_ATTEMPTS + 1):
            try:
                return call()
            except StockadeError as exc:
                if not exc.transient or attempt == _TRANSIENT_ATTEMPTS:
                    raise
            self._sleep(delay)
            delay = min(delay * 2, self._timing.stack_poll_interval * 4)
        raise AssertionError("unreachable")  # pragma: no cover
