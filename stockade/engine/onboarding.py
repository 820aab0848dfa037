"""The onboarding workflow: from a recorded tenant to an active account with its baseline.

validate → CreateAccount (idempotent: the request id is recorded durably before polling, and a
crash between the call and the record is healed by looking the request up by account name) →
poll → move to the tenant OU → tag → deploy the baseline stacks of the **current release** (the
one applied last, read when the baseline phase starts): the access stack through the org access
role, the only role a new account has, every later one through the deploy role the access stack
created (``engine.baseline``: which role when, and why a re-run after a crash still works once
the org access role is locked) → check each stack's resources against its template and read
the account's stacks, through the read role → ``active`` → deploy the release's services for
the tenant's tier through the deploy role (``engine.tenant_deploy``, as a rollout would), in a
third workflow on a narrow queue of its own, so the services of tenants already active never
slow down the onboarding of the others. A tenant is active once its account and baseline are
in place; a service that fails to deploy leaves a warning on the tenant (the next
``stockade apply`` deploys it), not a failed tenant.

Each step is a DBOS step: it re-runs after a crash, so each one looks up before it creates.
Transient errors (throttling, 5xx) are retried with backoff; a permanent error leaves the tenant
``failed`` with the step and the reason, and ``TenantService.retry_tenant`` starts a new attempt
that skips every step already done.

Who calls it: ``engine.service`` enqueues ``Onboarding.onboard``; DBOS runs and recovers it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS, Queue, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded

from stockade.cloud.ports import CloudPort, CreationState, StacksPort
from stockade.domain.errors import AccountCreationFailed, CloudError, SpecError, StockadeError
from stockade.domain.stacks import DesiredStack, RecordedStack, desired_stacks, stack_tags
from stockade.domain.tenant import TenantState, baseline_workflow_id
from stockade.engine.baseline import BaselineDeployer, BaselineStack, access_stack_name
from stockade.engine.bootstrap import OrgLayout
from stockade.engine.deploy import stack_parameters
from stockade.engine.instances import BoundInstance
from stockade.engine.observe import observe_account
from stockade.engine.tenant_deploy import DeployTarget, TenantDeployer
from stockade.engine.timing import EngineTiming
from stockade.spec.loader import LoadedSpec
from stockade.store.deployments import DeploymentRepository
from stockade.store.overrides import OverridesRepository
from stockade.store.releases import ReleaseRepository
from stockade.store.templates import TemplateRepository
from stockade.store.tenants import TenantRepository

ACTOR = "engine"


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, StockadeError) and exc.transient


#: DBOS retry policy for every step: transient errors only (AWS throttling and 5xx, a busy
#: database), about a minute of backoff in all
RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 8,
    "interval_seconds": 0.5,
    "backoff_rate": 2.0,
    "should_retry": _transient,
}


def describe_failure(exc: BaseException) -> str:
    """One line for the tenant's failure_reason."""
    if isinstance(exc, DBOSMaxStepRetriesExceeded) and exc.errors:
        last = exc.errors[-1]
        return f"gave up after {exc.max_retries} attempts: {describe_failure(last)}"
    if isinstance(exc, StockadeError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}"


@dataclass
class OnboardingQueues:
    """Filled by ``EngineRuntime`` after launch (DBOS registers queues only then)."""

    #: phase 1; its concurrency is AWS's cap on CreateAccount requests in flight
    account: Queue | None = None
    #: phase 2
    baseline: Queue | None = None
    #: phase 3: the services, after the tenant is active
    services: Queue | None = None


@dataclass
class OnboardingDeps:
    repo: TenantRepository
    cloud: CloudPort
    spec: LoadedSpec
    layout: OrgLayout
    timing: EngineTiming
    #: the current release is what new tenants get
    releases: ReleaseRepository
    templates: TemplateRepository
    deployments: DeploymentRepository
    overrides: OverridesRepository
    #: deploys the services after the baseline
    deployer: TenantDeployer
    #: the deploy role and home region of the running spec
    target: Callable[[], DeployTarget]
    queues: OnboardingQueues = field(default_factory=OnboardingQueues)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time


@DBOS.dbos_class()
class Onboarding(BoundInstance[OnboardingDeps]):
    """DBOS workflows and steps of onboarding; one instance per process, named ``onboarding``."""

    NAME = "onboarding"

    # -- workflows -------------------------------------------------------------------------
    # Onboarding runs as two workflows so that no thread waits on another workflow: the first
    # holds one of AWS's five CreateAccount slots (its queue's concurrency) only while the
    # account is being created, then enqueues the second, which builds the baseline.

    @DBOS.workflow()
    def onboard(self, tenant_id: str) -> str:
        """Phase 1, on the account queue: validate, create (or find) the account."""
        step = "validate"
        try:
            self.begin(tenant_id)
            step = "create-account"
            kind, value = self.request_account(tenant_id)
            account_id = value if kind == "account" else self.await_account(tenant_id, value)
            step = "start-baseline"
            queue = self.deps.queues.baseline
            if queue is None:  # pragma: no cover - runtime wiring error
                raise RuntimeError("the baseline queue is not registered")
            with SetWorkflowID(baseline_workflow_id(DBOS.workflow_id or "")):
                queue.enqueue(self.build_baseline, tenant_id, account_id)
        except Exception as exc:  # noqa: BLE001 - any error must end as a failed tenant
            self.fail(tenant_id, step, describe_failure(exc))
            return TenantState.FAILED.value
        return TenantState.PROVISIONING.value

    @DBOS.workflow()
    def build_baseline(self, tenant_id: str, account_id: str) -> str:
        """Phase 2, on the baseline queue: place, tag, deploy and check the baseline."""
        step = "move-account"
        try:
            self.place_account(tenant_id, account_id)
            step = "tag-account"
            self.tag_account(tenant_id, account_id)
            step = "current-release"
            release_id = self.current_release(tenant_id)
            for stack_name in self.baseline_stacks(tenant_id, release_id):
                step = f"deploy-baseline:{stack_name}"
                self.deploy_baseline_stack(tenant_id, account_id, stack_name, release_id)
                step = f"verify-baseline:{stack_name}"
                self.verify_baseline_stack(tenant_id, account_id, stack_name, release_id)
            step = "observe"
            self.observe_account(tenant_id)
            step = "activate"
            self.finish(tenant_id)
        except Exception as exc:  # noqa: BLE001 - any error must end as a failed tenant
            self.fail(tenant_id, step, describe_failure(exc))
            return TenantState.FAILED.value
        queue = self.deps.queues.services
        if queue is not None:
            with SetWorkflowID(f"{DBOS.workflow_id}-services"):
                queue.enqueue(self.build_services, tenant_id, release_id)
        return TenantState.ACTIVE.value

    @DBOS.workflow()
    def build_services(self, tenant_id: str, release_id: str) -> int:
        """Phase 3, on the services queue (narrow, so it never starves phases 1 and 2): the
        release's services for the tenant's tier."""
        try:
            return self.deploy_services(tenant_id, release_id)
        except Exception as exc:  # noqa: BLE001 - the tenant is active; its services wait
            self.warn(tenant_id, f"services not deployed: {describe_failure(exc)}")
            return 0

    # -- steps -----------------------------------------------------------------------------

    @DBOS.step(**RETRY)
    def begin(self, tenant_id: str) -> None:
        """Check the tenant still fits the spec and mark it provisioning."""
        tenant = self.deps.repo.get(tenant_id)
        if tenant.tier not in self.deps.spec.spec.tiers:
            raise SpecError(
                f"tenant {tenant_id!r} has tier {tenant.tier!r}, which the spec no longer has",
                hint="add the tier back to the spec, then `stockade tenant retry`",
            )
        self.deps.repo.transition(tenant_id, TenantState.PROVISIONING, actor=ACTOR)

    @DBOS.step(**RETRY)
    def current_release(self, tenant_id: str) -> str:
        """The release this tenant is built with: the one applied last (a step: recovery
        builds with the same one)."""
        latest = self.deps.releases.latest()
        if latest is None:
            raise SpecError("no release has been applied yet", hint="run `stockade apply`")
        return latest.release_id

    @DBOS.step(**RETRY)
    def baseline_stacks(self, tenant_id: str, release_id: str) -> list[str]:
        """The baseline stacks to deploy, in order."""
        return [stack.name for stack in self.deps.releases.get(release_id).baseline]

    @DBOS.step(**RETRY)
    def request_account(self, tenant_id: str) -> tuple[str, str]:
        """("account", id) if the account exists already, else ("request", request id)."""
        repo = self.deps.repo
        tenant = repo.get(tenant_id)
        if tenant.account_id:
            return ("account", tenant.account_id)
        if tenant.create_request_id:
            return ("request", tenant.create_request_id)
        naming = self.deps.spec.spec.naming
        orgs = self.deps.cloud.organizations()
        if repo.create_intent_at(tenant_id) is not None:
            # a crash (or lost response) between CreateAccount and recording its request id
            found = orgs.find_account_creation(account_name=naming.name(tenant_id))
            if found is not None:
                repo.record_create_request(tenant_id, found.request_id)
                return ("request", found.request_id)
            account = orgs.find_account_by_email(email=naming.email(tenant_id))
            if account is not None:
                repo.record_account(tenant_id, account.account_id)
                return ("account", account.account_id)
        repo.record_create_intent(tenant_id)
        creation = orgs.create_account(email=naming.email(tenant_id), name=naming.name(tenant_id))
        repo.record_create_request(tenant_id, creation.request_id)
        return ("request", creation.request_id)

    @DBOS.step(**RETRY)
    def await_account(self, tenant_id: str, request_id: str) -> str:
        d = self.deps
        orgs = d.cloud.organizations()
        deadline = d.clock() + d.timing.account_timeout
        while True:
            creation = orgs.describe_account_creation(request_id=request_id)
            if creation.state is CreationState.SUCCEEDED and creation.account_id:
                d.repo.record_account(tenant_id, creation.account_id)
                return creation.account_id
            if creation.state is CreationState.FAILED:
                adopted = self._adopt_existing(tenant_id, creation.failure_reason)
                if adopted is not None:
                    return adopted
                # the next attempt must send a new CreateAccount
                d.repo.clear_create_request(tenant_id)
                raise AccountCreationFailed(
                    creation.failure_reason or "UNKNOWN",
                    hint="fix the cause (e.g. the e-mail address), then `stockade tenant retry`",
                )
            if d.clock() > deadline:
                raise CloudError(
                    f"CreateAccount request {request_id} still in progress after "
                    f"{d.timing.account_timeout:.0f} s",
                    hint="check the request in the AWS console, then `stockade tenant retry`",
                )
            d.sleep(d.timing.account_poll_interval)

    def _adopt_existing(self, tenant_id: str, failure_reason: str | None) -> str | None:
        """After EMAIL_ALREADY_EXISTS: if the account holding this tenant's e-mail is in our
        organization, it is this tenant's (an earlier request that succeeded): adopt it."""
        if failure_reason != "EMAIL_ALREADY_EXISTS":
            return None
        email = self.deps.spec.spec.naming.email(tenant_id)
        account = self.deps.cloud.organizations().find_account_by_email(email=email)
        if account is None:
            return None
        self.deps.repo.record_account(tenant_id, account.account_id)
        return account.account_id

    @DBOS.step(**RETRY)
    def place_account(self, tenant_id: str, account_id: str) -> None:
        ou = self.deps.layout.ou_id(self.deps.spec.spec.organization.tenant_ou)
        self.deps.cloud.organizations().move_account(account_id=account_id, destination_id=ou)

    @DBOS.step(**RETRY)
    def tag_account(self, tenant_id: str, account_id: str) -> None:
        tenant = self.deps.repo.get(tenant_id)
        self.deps.cloud.organizations().tag_account(
            account_id=account_id,
            tags={"stockade:tenant": tenant_id, "stockade:tier": tenant.tier},
        )

    def _stacks(self, account_id: str, role_name: str) -> StacksPort:
        return self.deps.cloud.stacks(
            account_id=account_id, role_name=role_name, region=self.deps.spec.spec.home_region
        )

    def _roles_in_place(self, tenant_id: str, release_id: str) -> bool:
        """Whether the access stack (which creates the deploy and read roles) is recorded
        complete for this tenant: from then on the org access role is never used."""
        name = access_stack_name(self.deps.releases.get(release_id))
        return any(r.stack_name == name for r in self.deps.deployments.recorded_for(tenant_id))

    @DBOS.step(**RETRY)
    def deploy_baseline_stack(
        self, tenant_id: str, account_id: str, stack_name: str, release_id: str
    ) -> str:
        d = self.deps
        tenant = d.repo.get(tenant_id)
        desired = self._desired(tenant.tenant_id, tenant.tier, stack_name, release_id)
        template = d.templates.get(desired.template_sha256)
        parameters = stack_parameters(
            desired,
            template,
            tenant_id=tenant_id,
            management_account_id=d.layout.management_account_id,
        )
        deployer = BaselineDeployer(
            stacks=lambda role: self._stacks(account_id, role),
            account_id=account_id,
            organization=d.spec.spec.organization,
            timing=d.timing,
            sleep=d.sleep,
            clock=d.clock,
            wall_clock=d.wall_clock,
        )
        final = deployer.deploy(
            BaselineStack(
                name=stack_name,
                template_body=template.body,
                parameters=parameters,
                tags=stack_tags(tenant_id, desired),
            ),
            roles_in_place=self._roles_in_place(tenant_id, release_id),
            change_set_name=f"stockade-onboard-a{tenant.attempt}",
        )
        d.deployments.record(
            tenant_id,
            RecordedStack.from_desired(desired),
            status=final.status,
            stack_id=final.stack_id,
        )
        return final.status

    def _desired(self, tenant_id: str, tier: str, stack_name: str, release_id: str) -> DesiredStack:
        """The stack as the tenant's release wants it for this tenant."""
        d = self.deps
        release = d.releases.get(release_id)
        overrides = d.overrides.get_overrides(tenant_id)
        for desired in desired_stacks(release, tier, overrides):
            if desired.stack_name == stack_name:
                return desired
        raise SpecError(f"stack {stack_name!r} is not in release {release.short_id}")

    @DBOS.step(**RETRY)
    def observe_account(self, tenant_id: str) -> int:
        """Store what the account now holds, so the first plan starts from facts."""
        d = self.deps
        return len(observe_account(d.repo.get(tenant_id), d.cloud, d.spec.spec, d.deployments))

    @DBOS.step(**RETRY)
    def verify_baseline_stack(
        self, tenant_id: str, account_id: str, stack_name: str, release_id: str
    ) -> None:
        d = self.deps
        stack = next(s for s in d.releases.get(release_id).baseline if s.name == stack_name)
        template = d.templates.get(stack.template_sha256)
        read = self._stacks(account_id, d.spec.spec.organization.read_role)
        deployed = {r.logical_id for r in read.list_stack_resources(name=stack_name)}
        missing = sorted(set(template.resources) - deployed)
        if missing:
            kinds = sorted({template.resources[m] for m in missing})
            d.repo.add_warning(
                tenant_id,
                f"stack {stack_name}: {len(missing)} resource(s) not created although the "
                f"stack reports complete ({', '.join(kinds)}: {', '.join(missing)}); the "
                "sandbox skips resource types it does not support",
            )

    @DBOS.step(**RETRY)
    def deploy_services(self, tenant_id: str, release_id: str) -> int:
        """Deploy the release's services for the tenant's tier; a permanent failure becomes a
        warning on the (active) tenant. Returns the stack operations started."""
        d = self.deps
        tenant = d.repo.get(tenant_id)
        release = d.releases.get(release_id)
        overrides = d.overrides.get_overrides(tenant_id)
        observed = d.deployments.observed_for(tenant_id)
        try:
            result = d.deployer.deploy(
                tenant,
                release,
                target=d.target(),
                overrides=overrides,
                releases_by_id=d.releases.by_ids(set(overrides.pins.values())),
                deployed=observed.stacks if observed is not None else (),
                recorded=d.deployments.recorded_for(tenant_id),
                change_set_name=f"stockade-onboard-a{tenant.attempt}",
            )
        except StockadeError as exc:
            if exc.transient:
                raise
            d.repo.add_warning(
                tenant_id,
                f"services of release {release.short_id} not deployed: {exc.one_line()}; "
                "`stockade apply` deploys them",
            )
            return 0
        return result.operations

    @DBOS.step(**RETRY)
    def warn(self, tenant_id: str, warning: str) -> None:
        self.deps.repo.add_warning(tenant_id, warning)

    @DBOS.step(**RETRY)
    def finish(self, tenant_id: str) -> None:
        self.deps.repo.transition(tenant_id, TenantState.ACTIVE, actor=ACTOR)

    @DBOS.step(**RETRY)
    def fail(self, tenant_id: str, step: str, reason: str) -> None:
        self.deps.repo.transition(
            tenant_id, TenantState.FAILED, actor=ACTOR, reason=reason, failed_step=step
        )
