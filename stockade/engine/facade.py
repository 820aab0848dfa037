"""What the API (and tests) may ask of the engine: the tenant operations, as a Protocol.

``engine.service.TenantService`` implements it over the store and DBOS; the API depends only on
this Protocol, so it can be exercised through a different implementation in tests.

``engine.rollouts.RolloutService`` implements ``RolloutOperations`` (apply and rollouts).

``store.TokenStore`` and ``store.AuditLog`` implement ``TokenOperations`` and
``AuditOperations`` directly (the API's token and audit routes).

``engine.access.AccessBroker`` implements ``AccessOperations`` (``stockade access``).

``engine.scan.CredentialScanService`` implements ``ScanOperations`` (``stockade scan``).

Who calls it: ``api`` (route handlers), ``server`` (wiring), ``bench``.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from stockade.domain.guardrails import ScpAction
from stockade.domain.plan import FleetPlan
from stockade.domain.tenant import Tenant, TenantRequest, TenantState
from stockade.store.audit import AuditEvent, AuditVerification
from stockade.store.rollout_types import Rollout, RolloutState
from stockade.store.tokens import TokenInfo

if TYPE_CHECKING:
    from stockade.domain.access import AccessLevel, AccessRequest, RequestState
    from stockade.engine.access import AccessAsk, AccessProfiles, IssuedAccess
    from stockade.engine.explain import ExplainOutcome, ExplainRequest
    from stockade.engine.guardrails import GuardrailPlan
    from stockade.engine.scan import CredentialScan


@dataclass(frozen=True)
class FleetSummary:
    """Counts by lifecycle state, for /healthz, the progress display and the dashboard."""

    by_state: dict[TenantState, int]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


class TenantOperations(Protocol):
    def known_tiers(self) -> frozenset[str]: ...

    def create_tenant(self, request: TenantRequest, *, actor: str) -> Tenant:
        """Validate, record (state ``requested``) and start onboarding. Raises
        ValidationError (bad id, unknown tier) or ConflictError (duplicate id)."""
        ...

    def get_tenant(self, tenant_id: str) -> Tenant:
        """Raises NotFoundError."""
        ...

    def list_tenants(
        self,
        *,
        state: TenantState | None = None,
        tier: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Tenant]: ...

    def retry_tenant(self, tenant_id: str, *, actor: str) -> Tenant:
        """Resume a failed tenant's onboarding where it stopped. Raises ConflictError if the
        tenant is not failed, NotFoundError if it does not exist."""
        ...

    def summary(self) -> FleetSummary: ...


@dataclass(frozen=True)
class PlanOutcome:
    """A fleet plan, plus how many accounts had to be read from AWS to make it."""

    plan: FleetPlan
    observed_now: int
    #: guardrail test results and SCP reconcile actions (None: not planned, e.g. a test fake)
    guardrails: GuardrailPlan | None = None


class PlanOperations(Protocol):
    def plan(self, *, refresh: bool = False) -> PlanOutcome:
        """Plan every active or suspended tenant against the running spec's release.
        ``refresh`` reads every account again instead of using the observed snapshots."""
        ...


@dataclass(frozen=True)
class ApplyOutcome:
    """What ``RolloutOperations.apply`` did: the release, the plan, and the rollout it started."""

    release_id: str
    #: the release was stored now (False: it had been applied before and is current again)
    new_release: bool
    plan: FleetPlan
    #: None when the plan changes no tenant: nothing to roll out
    rollout: Rollout | None
    #: accounts read from AWS to make the plan
    observed_now: int
    #: the SCP changes apply made to the organization (guardrails)
    scp_actions: tuple[ScpAction, ...] = ()


class RolloutOperations(Protocol):
    def apply(self, *, actor: str, refresh: bool = False) -> ApplyOutcome:
        """Reload the spec (templates checked with cfn-lint: SpecError if one is invalid),
        store its release and make it current, plan every tenant, and start a rollout of the
        tenants with changes in the spec's waves. ConflictError if another rollout is
        pending, running or halted (resume it or roll it back first)."""
        ...

    def list_rollouts(self, *, limit: int = 50, state: RolloutState | None = None) -> list[Rollout]:
        """Newest first, with counts by wave (no per-tenant rows)."""
        ...

    def get_rollout(self, rollout_id: str, *, tenants: bool = True) -> Rollout:
        """With every tenant's status and error (``tenants=False``: only the counts by wave).
        NotFoundError if unknown."""
        ...

    def halt_rollout(self, rollout_id: str, *, actor: str, reason: str) -> Rollout:
        """Stop starting new tenants (those in flight finish). ConflictError unless the
        rollout is pending or running."""
        ...

    def resume_rollout(self, rollout_id: str, *, actor: str) -> Rollout:
        """Continue a halted rollout where it stopped; failed tenants are tried again.
        ConflictError unless it is halted."""
        ...

    def rollback_rollout(self, rollout_id: str, *, actor: str) -> Rollout:
        """Start a new rollout redeploying the previous release to the tenants this one
        changed; the original becomes ``rolled_back`` once it is stopped. Returns the new
        rollout. ConflictError if the rollout is running (halt it first), already rolled
        back, or has no previous release."""
        ...


class PolicyOperations(Protocol):
    def explain(self, request: ExplainRequest) -> ExplainOutcome:
        """Evaluate a request in the tenant's account under the SCPs that apply to it in the
        organization now, plus the given identity policies (default: an administrator).
        NotFoundError for an unknown tenant; ValidationError for a bad policy or principal."""
        ...


class TokenOperations(Protocol):
    def create(
        self, name: str, role: str, *, actor: str, tenants: Iterable[str] | None = None
    ) -> tuple[str, TokenInfo]:
        """Issue a token (limited to ``tenants`` if given) and audit it. Returns the plaintext,
        to show once, and the token's info. ValidationError for a bad name, role or scope."""
        ...

    def list(self) -> builtins.list[TokenInfo]:
        """Every token, revoked ones included, oldest first (never a plaintext or hash)."""
        ...

    def revoke(self, token_id: str, *, actor: str) -> TokenInfo:
        """Revoke for good (audited; a second revoke changes nothing). NotFoundError if
        unknown."""
        ...


class AuditOperations(Protocol):
    def list(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[AuditEvent]:
        """Events matching every given filter, newest first."""
        ...

    def verify(self) -> AuditVerification:
        """Walk the whole hash chain; every problem (edited, missing, reordered events) and
        the first broken link."""
        ...


class AccessOperations(Protocol):
    """People's credentials in tenant accounts and break-glass requests (``AccessBroker``)."""

    def issue(self, ask: AccessAsk) -> IssuedAccess:
        """Credentials (audited, never stored). AccessNotAllowedError (level not for the
        caller's role), ApprovalRequiredError (break-glass without an approved request),
        AccessUnavailableError (tenant not active), ValidationError (reason, duration),
        NotFoundError (tenant, request)."""
        ...

    def profiles(
        self, tenants: Iterable[Tenant], *, api_role: str, level: AccessLevel | None = None
    ) -> AccessProfiles:
        """``~/.aws/config`` profiles for the active tenants among ``tenants``."""
        ...

    def request(
        self,
        *,
        tenant_id: str,
        reason: str,
        actor: str,
        api_role: str,
        duration_seconds: int | None = None,
    ) -> AccessRequest:
        """A pending break-glass request (audited)."""
        ...

    def list_requests(
        self,
        *,
        state: RequestState | None = None,
        tenants: Iterable[str] | None = None,
        limit: int = 100,
    ) -> builtins.list[AccessRequest]:
        """Newest first (requests past their deadline are recorded as expired first)."""
        ...

    def get_request(self, request_id: str) -> AccessRequest:
        """NotFoundError if unknown."""
        ...

    def approve(self, request_id: str, *, actor: str, api_role: str) -> AccessRequest:
        """SelfApprovalError for the requester; AccessRequestExpiredError, ..ClosedError."""
        ...

    def deny(self, request_id: str, *, actor: str, api_role: str, reason: str) -> AccessRequest:
        """Deny a pending request, with a reason."""
        ...


class ScanOperations(Protocol):
    def scan_credentials(self, *, tenant_ids: Collection[str] | None = None) -> CredentialScan:
        """Read every active or suspended tenant's account (only ``tenant_ids`` if given)
        through the scan role; the long-lived credentials found, and the accounts that could
        not be read (reported per account, never failing the scan)."""
        ...
