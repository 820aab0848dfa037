"""Build and tear down one running control plane: store, sandbox or AWS, engine and service.

``start_control_plane`` is shared by ``stockade up``, the benchmarks and the end-to-end tests, so
they all run exactly the same wiring. It also keeps the sandbox and the database consistent:
either the sandbox restores the state the database points at, or both start fresh and the
returned ``notices`` say so.

Who calls it: ``server.up`` (the ``stockade up`` command), ``bench/``, tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from stockade.cloud.aws.session import AwsCloud, AwsTarget, ClientHook, StaticCredentials
from stockade.cloud.budget import RateBudget
from stockade.cloud.sandbox.hooks import SandboxHooks
from stockade.cloud.sandbox.iam_authorization import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY
from stockade.cloud.sandbox.process import SandboxProcess, journal_instance_id, wipe
from stockade.domain.errors import SpecError
from stockade.domain.quotas import DEFAULT_QUOTAS
from stockade.engine.access import AccessBroker
from stockade.engine.bootstrap import OrgLayout, bootstrap_organization
from stockade.engine.durations import StackDurations
from stockade.engine.explain import PolicyExplainer
from stockade.engine.guardrails import GuardrailService
from stockade.engine.onboarding import OnboardingDeps
from stockade.engine.planning import PlanService
from stockade.engine.rollout_deps import RolloutDeps
from stockade.engine.rollouts import RolloutService, stored_templates
from stockade.engine.runtime import EngineRuntime, RuntimeConfig
from stockade.engine.scan import CredentialScanService
from stockade.engine.service import TenantService
from stockade.engine.tenant_deploy import TenantDeployer
from stockade.engine.timing import EngineTiming
from stockade.lifecycle import StopSignal
from stockade.scaffold import example_spec_path
from stockade.settings import SandboxSettings, Settings
from stockade.spec.loader import LoadedSpec, load_spec
from stockade.spec.source import SpecSource
from stockade.store.access_requests import AccessRequestRepository
from stockade.store.audit import AuditLog
from stockade.store.db import Database
from stockade.store.deployments import DeploymentRepository
from stockade.store.meta import MetaStore
from stockade.store.overrides import OverridesRepository
from stockade.store.releases import ReleaseRepository
from stockade.store.rollouts import RolloutRepository
from stockade.store.templates import TemplateRepository
from stockade.store.tenants import TenantRepository
from stockade.store.tokens import TokenStore

SANDBOX_META_KEY = "sandbox_instance"
#: how long ``close`` waits for running workflows to unwind (they do within milliseconds)
DRAIN_SECONDS = 3
#: the sandbox's management account credentials (moto accepts any; these never reach AWS);
#: with ``SandboxSettings.iam_authorization`` they are the management account's admin user
SANDBOX_CREDENTIALS = StaticCredentials(
    access_key_id=ADMIN_ACCESS_KEY_ID, secret_access_key=ADMIN_SECRET_ACCESS_KEY
)


@dataclass
class ControlPlane:
    settings: Settings
    mode: Literal["sandbox", "aws"]
    spec: LoadedSpec
    db: Database
    repo: TenantRepository
    audit: AuditLog
    tokens: TokenStore
    cloud: AwsCloud
    budget: RateBudget
    layout: OrgLayout
    runtime: EngineRuntime
    service: TenantService
    planner: PlanService
    deployments: DeploymentRepository
    rollouts: RolloutService
    policies: PolicyExplainer
    releases: ReleaseRepository
    overrides: OverridesRepository
    access: AccessBroker
    scans: CredentialScanService
    stop: StopSignal
    sandbox: SandboxProcess | None = None
    hooks: SandboxHooks | None = None
    time_scale: float = 1.0
    notices: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Stop the engine, then the sandbox, then the database. Safe to call twice.

        The stop signal first: running workflows unwind at their next sleep or AWS request,
        recording nothing (DBOS re-runs their steps at the next start), so none of them retries
        against the stopped sandbox or fails a tenant because the process is going away."""
        self.stop.stop()
        self.runtime.shutdown(drain_seconds=DRAIN_SECONDS)
        if self.sandbox is not None:
            self.sandbox.stop()
        self.db.dispose()


def resolve_spec_path(spec_path: Path | None, mode: str) -> Path:
    if spec_path is not None:
        return spec_path
    local = Path("stockade.yaml")
    if local.exists():
        return local
    if mode == "sandbox":
        return example_spec_path()
    raise SpecError(
        "no fleet spec: ./stockade.yaml does not exist",
        hint="run `stockade init` or pass --spec FILE",
    )


def _reconcile_sandbox_state(
    db: Database, repo: TenantRepository, state_dir: Path, settings: Settings
) -> list[str]:
    """Keep the database and the sandbox journal pointing at the same sandbox instance."""
    meta = MetaStore(db)
    recorded = meta.get(SANDBOX_META_KEY)
    journal = journal_instance_id(state_dir)
    if recorded == journal:
        return []
    tenants = sum(repo.count_by_state().values())
    if recorded is None and tenants == 0:
        return []  # a fresh database adopts whatever sandbox is there
    # they disagree: the database points at accounts the sandbox does not hold (or vice versa)
    wipe(state_dir)
    removed = repo.delete_all()
    dbos_db = settings.home / "dbos.sqlite"
    if settings.resolved_system_database_url().endswith(str(dbos_db.resolve())):
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{dbos_db}{suffix}").unlink()
    return [
        "the sandbox's saved state does not match the database "
        f"(database: {recorded or 'none'}, sandbox: {journal or 'none'}); "
        f"starting both fresh ({removed} tenant record(s) removed)"
    ]


def _start_sandbox(
    db: Database,
    repo: TenantRepository,
    sandbox: SandboxProcess,
    state_dir: Path,
    settings: Settings,
) -> list[str]:
    """Start the sandbox on the state the database points at (or both fresh); the notices."""
    notices = _reconcile_sandbox_state(db, repo, state_dir, settings)
    sandbox.start()
    MetaStore(db).set(SANDBOX_META_KEY, sandbox.instance_id)
    if sandbox.restored_requests:
        notices.append(f"sandbox restored from its journal ({sandbox.restored_requests} requests)")
    return notices


def _engine_deps(
    db: Database,
    audit: AuditLog,
    repo: TenantRepository,
    *,
    cloud: AwsCloud,
    spec: LoadedSpec,
    layout: OrgLayout,
    time_scale: float,
    stop: StopSignal,
) -> tuple[OnboardingDeps, RolloutDeps]:
    """The engine's dependencies; stores the spec's templates, and its release on first start."""
    deployments = DeploymentRepository(db)
    overrides = OverridesRepository(db, audit)
    releases = ReleaseRepository(db, audit)
    templates = TemplateRepository(db)
    source = SpecSource(spec.path, spec)
    timing = EngineTiming().scaled(time_scale)
    planner = PlanService(
        tenants=repo,
        releases=releases,
        overrides=overrides,
        deployments=deployments,
        spec=source,
        cloud=cloud,
        guardrails=GuardrailService(cloud=cloud, audit=audit.append),
    )
    templates.save_all(stored_templates(spec))
    if releases.latest() is None:  # the first start: the spec's release is the current one
        planner.guardrails.reconcile(spec, actor="stockade up")
        releases.save(planner.candidate(), actor="stockade up")
    rollouts = RolloutDeps(
        rollouts=RolloutRepository(db, audit),
        releases=releases,
        tenants=repo,
        overrides=overrides,
        deployments=deployments,
        templates=templates,
        planner=planner,
        spec=source,
        cloud=cloud,
        management_account_id=layout.management_account_id,
        timing=timing,
        sleep=stop.sleep,
        stop=stop,
    )
    onboarding = OnboardingDeps(
        repo=repo,
        cloud=cloud,
        spec=spec,
        layout=layout,
        timing=timing,
        releases=releases,
        templates=templates,
        deployments=deployments,
        overrides=overrides,
        deployer=TenantDeployer(
            cloud=cloud,
            deployments=deployments,
            templates=templates,
            timing=timing,
            durations=StackDurations(default_poll=timing.stack_poll_interval),
            sleep=stop.sleep,
        ),
        target=rollouts.target,
        sleep=stop.sleep,
    )
    return onboarding, rollouts


def load_fleet_spec(spec_path: Path | None, mode: str) -> LoadedSpec:
    """The spec ``stockade up`` runs with (validated, templates linted); raises SpecError."""
    return load_spec(resolve_spec_path(spec_path, mode))


def start_control_plane(
    settings: Settings,
    *,
    mode: Literal["sandbox", "aws"] = "sandbox",
    spec: LoadedSpec | None = None,
    sandbox_settings: SandboxSettings | None = None,
    client_hooks: Sequence[ClientHook] = (),
    credentials: StaticCredentials | None = None,
) -> ControlPlane:
    """Start everything but the HTTP server; the caller must ``close()`` the result.

    Without ``spec``: ./stockade.yaml, or in sandbox mode the packaged example.
    ``client_hooks`` are installed on every AWS client after the sandbox's own (a seam for
    tests that need to disturb the wire, e.g. lose a response). ``credentials``: who Stockade
    runs as in the sandbox's management account (default ``SANDBOX_CREDENTIALS``; with IAM
    authorization on, the tests' least-privilege user).
    """
    spec = spec or load_fleet_spec(None, mode)
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url())
    sandbox: SandboxProcess | None = None
    runtime: EngineRuntime | None = None
    stop = StopSignal()
    try:
        db.migrate()
        audit = AuditLog(db)
        repo = TenantRepository(db, audit)
        notices: list[str] = []
        hooks: SandboxHooks | None = None
        time_scale = 1.0
        if mode == "sandbox":
            sb = sandbox_settings or SandboxSettings()
            time_scale = sb.time_scale
            state_dir = settings.home / "sandbox"
            sandbox = SandboxProcess(state_dir, sb)
            notices += _start_sandbox(db, repo, sandbox, state_dir, settings)
            hooks = SandboxHooks(DEFAULT_QUOTAS, sb.time_scale, sb.latency, sb.enforce_quotas)
            target = AwsTarget(
                region=spec.spec.home_region,
                endpoint_url=sandbox.endpoint_url,
                credentials=credentials or SANDBOX_CREDENTIALS,
            )
        else:
            target = AwsTarget(region=spec.spec.home_region)
        budget = RateBudget(
            DEFAULT_QUOTAS.scaled(time_scale), safety=settings.rate_safety, sleep=stop.sleep
        )
        all_hooks: list[ClientHook] = [hooks] if hooks is not None else []
        all_hooks += client_hooks
        cloud = AwsCloud(target=target, budget=budget, hooks=all_hooks, stop=stop)
        layout = bootstrap_organization(cloud, spec.spec)
        deps, rollout_deps = _engine_deps(
            db,
            audit,
            repo,
            cloud=cloud,
            spec=spec,
            layout=layout,
            time_scale=time_scale,
            stop=stop,
        )
        runtime = EngineRuntime(
            RuntimeConfig(
                system_database_url=settings.resolved_system_database_url(),
                executor_id=settings.executor_id,
                onboard_concurrency=settings.onboard_concurrency,
                # the sandbox serves one request at a time: new tenants' services, deployed in
                # the background, would only queue in front of the onboarding of others
                services_concurrency=1 if mode == "sandbox" else settings.services_concurrency,
            ),
            deps,
            DEFAULT_QUOTAS,
            rollout_deps,
        )
        onboarding = runtime.launch()
        service = TenantService(repo=repo, spec=spec.spec, onboarding=onboarding)
        service.resume_pending()
        assert runtime.rollouts is not None
        rollouts = RolloutService(rollout_deps, runtime.rollouts)
        rollouts.resume_open()
    except BaseException:
        stop.stop()
        if runtime is not None:
            runtime.shutdown()
        if sandbox is not None:
            sandbox.stop()
        db.dispose()
        raise
    return ControlPlane(
        settings=settings,
        mode=mode,
        spec=spec,
        db=db,
        repo=repo,
        audit=audit,
        tokens=TokenStore(db, audit),
        cloud=cloud,
        budget=budget,
        layout=layout,
        runtime=runtime,
        service=service,
        planner=rollout_deps.planner,
        deployments=rollout_deps.deployments,
        rollouts=rollouts,
        policies=PolicyExplainer(
            tenant=repo.get,
            scp_chain=lambda account: cloud.organizations().scp_chain(account_id=account),
        ),
        releases=rollout_deps.releases,
        overrides=rollout_deps.overrides,
        access=AccessBroker(
            tenant=repo.get,
            roles=spec.spec.organization.access_roles,
            region=spec.spec.home_region,
            sessions=cloud,
            requests=AccessRequestRepository(db, audit),
            audit=audit,
            window=timedelta(seconds=settings.break_glass_window_seconds),
        ),
        scans=CredentialScanService(
            tenants=repo,
            cloud=cloud,
            scan_role=lambda: spec.spec.organization.scan_role,
        ),
        stop=stop,
        sandbox=sandbox,
        hooks=hooks,
        time_scale=time_scale,
        notices=notices,
    )
