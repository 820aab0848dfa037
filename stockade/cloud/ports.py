"""The ports the engine calls to reach AWS: typed Protocols and the value types they return.

Adapters (``cloud.aws``) implement them with boto3; the same adapters run against the sandbox.
Every method takes keyword-only arguments, returns stockade types (never raw boto3 dicts) and
raises only ``domain.errors`` types: ``TransientCloudError`` when a retry can help,
``CloudError`` when it cannot.

Who calls it: ``engine`` (workflows and steps), ``server`` (wiring the adapters in).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from stockade.domain.credentials import AccountCredentials
from stockade.domain.guardrails import ObservedScp, ScpTarget


class CreationState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class AccountCreation:
    """The status of one CreateAccount request."""

    request_id: str
    state: CreationState
    account_name: str
    account_id: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True)
class Account:
    account_id: str
    email: str
    name: str
    status: str


@dataclass(frozen=True)
class StackInfo:
    """A CloudFormation stack's current state."""

    name: str
    stack_id: str
    status: str
    reason: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    #: POSIX seconds of the last create or update (0 if unknown)
    changed_at: float = 0.0
    #: the parameters the stack was last deployed with (``NoEcho`` values read ``****``)
    parameters: tuple[tuple[str, str], ...] = ()
    #: the stack's outputs (none until a create has completed; the sandbox reports none for
    #: stacks deployed through change sets, nor tags changed by an update: see cloud.aws)
    outputs: tuple[tuple[str, str], ...] = ()

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")

    @property
    def complete(self) -> bool:
        return self.status in {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}

    @property
    def tag_values(self) -> dict[str, str]:
        return dict(self.tags)

    @property
    def parameter_values(self) -> dict[str, str]:
        return dict(self.parameters)

    @property
    def output_values(self) -> dict[str, str]:
        return dict(self.outputs)


@dataclass(frozen=True)
class DeployStart:
    """What ``StacksPort.deploy_stack`` did with one change set.

    ``executed``: the change set is executing or has executed, by this call or by an earlier
    one (``resumed``); wait for the stack with ``wait_stack``. ``no_changes``: CloudFormation
    found nothing to change, so nothing was executed and the stack already matches (success).
    Exactly one of the two is true.
    """

    stack_id: str
    #: None only when CloudFormation refused the change set outright for having no changes
    change_set_id: str | None
    #: "CREATE" (a new stack) or "UPDATE"
    change_set_type: str
    executed: bool
    no_changes: bool = False
    #: an earlier call (before a crash or a lost response) had already created this change set
    resumed: bool = False


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    status: str
    physical_id: str | None = None


@dataclass(frozen=True)
class ScpDocument:
    """One SCP as it applies to an account: its id, name and policy text."""

    policy_id: str
    name: str
    content: str


@dataclass(frozen=True)
class ScpLevel:
    """The SCPs attached at one level of an account's path: the root, an OU, or the account."""

    target: ScpTarget
    policies: tuple[ScpDocument, ...]


@dataclass(frozen=True)
class IssuedCredentials:
    """Temporary credentials STS issued for a role session in a tenant account (Stockade's own,
    or a person's).

    Never stored or logged: ``repr`` shows the access key id and the expiry, not the secret or
    the session token."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    #: ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``
    assumed_role_arn: str

    def __repr__(self) -> str:
        return (
            f"IssuedCredentials(access_key_id={self.access_key_id!r}, "
            f"expiration={self.expiration.isoformat()!r}, "
            f"assumed_role_arn={self.assumed_role_arn!r})"
        )

    __str__ = __repr__


class SessionIssuer(Protocol):
    """Issues people's sessions in tenant accounts (the access broker's one need of AWS)."""

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
        """Assume ``role_name`` in ``account_id`` with Stockade's own identity (a role chain),
        as ``session_name``, with ``source_identity`` and session ``tags``, for exactly
        ``duration_seconds`` (never clamped: STS refuses what it does not allow, as a
        ``CloudError``)."""
        ...


class OrganizationsPort(Protocol):
    """AWS Organizations, called from the management account."""

    def ensure_organization(self) -> str:
        """Create the organization if there is none (all features); return the root id."""
        ...

    def ensure_ou(self, *, parent_id: str, name: str) -> str:
        """Return the id of OU ``name`` under ``parent_id``, creating it if needed."""
        ...

    def create_account(self, *, email: str, name: str) -> AccountCreation: ...

    def describe_account_creation(self, *, request_id: str) -> AccountCreation: ...

    def find_account_creation(self, *, account_name: str) -> AccountCreation | None:
        """The newest in-progress or succeeded CreateAccount request for this account name."""
        ...

    def find_account_by_email(self, *, email: str) -> Account | None: ...

    def move_account(self, *, account_id: str, destination_id: str) -> bool:
        """Move the account under ``destination_id``; False if it was already there."""
        ...

    def tag_account(self, *, account_id: str, tags: dict[str, str]) -> None: ...

    def count_accounts(self) -> int:
        """Every account in the organization, the management account included."""
        ...

    # -- service control policies (``cloud.aws.organizations_scps``) --------------------------

    def enable_scps(self) -> None:
        """Make sure SCPs are enabled in the root (waits while AWS is still enabling them)."""
        ...

    def list_scps(self) -> tuple[ObservedScp, ...]:
        """Every SCP of the organization, AWS's own included, with its content, whether Stockade
        manages it (the ``MANAGED_TAG`` tag) and its targets (OUs by their path of names)."""
        ...

    def create_scp(self, *, name: str, description: str, content: str) -> str:
        """Create the SCP, tagged as Stockade's; return its id. Idempotent by name: an SCP with
        that name already there is returned as it is."""
        ...

    def update_scp(self, *, policy_id: str, content: str, description: str) -> None: ...

    def attach_scp(self, *, policy_id: str, target: ScpTarget) -> None:
        """Attach the SCP (already attached: nothing to do). ``NotFoundError`` for an unknown OU
        path or account, ``ConflictError`` when the target already has its maximum of SCPs."""
        ...

    def detach_scp(self, *, policy_id: str, target: ScpTarget) -> None:
        """Detach the SCP (not attached, or no such policy: nothing to do). ``ConflictError``
        when it is the target's last SCP."""
        ...

    def delete_scp(self, *, policy_id: str) -> None:
        """Delete the SCP (already gone: nothing to do); ``ConflictError`` while attached."""
        ...

    def scp_chain(self, *, account_id: str) -> tuple[ScpLevel, ...]:
        """The SCPs that apply to the account, by level: the root, each OU down to the account,
        then the account itself. ``NotFoundError`` for an account not in the organization."""
        ...


class StacksPort(Protocol):
    """CloudFormation in one account and region, through a role in that account."""

    def get_stack(self, *, name: str) -> StackInfo | None: ...

    def create_stack(
        self,
        *,
        name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
    ) -> str:
        """Start creating the stack; return its id. Raises ConflictError if it exists."""
        ...

    def delete_stack(self, *, name: str) -> None: ...

    def list_stack_resources(self, *, name: str) -> list[StackResource]: ...

    def deploy_stack(
        self,
        *,
        name: str,
        template_body: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        change_set_name: str,
        timeout: float = 900.0,
        poll_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> DeployStart:
        """Create (or update) the stack through change set ``change_set_name``, and execute it.

        Idempotent for one ``change_set_name`` (derive it from the release and the attempt): a
        retry after a crash reuses the change set and never executes it twice. Waits up to
        ``timeout`` for CloudFormation to compute the change set, not for the stack: call
        ``wait_stack`` next when ``executed``. A stack that never finished its creation
        (``REVIEW_IN_PROGRESS``, ``ROLLBACK_COMPLETE``, ``CREATE_FAILED``) is deleted and created
        anew. Parameters left out take the template's defaults. Raises ``StackDeploymentFailed``
        for template and parameter errors (permanent) and ``TransientCloudError`` when another
        operation is running on the stack.
        """
        ...

    def wait_stack(
        self,
        *,
        name: str,
        timeout: float,
        poll_interval: float = 5.0,
        backoff: float = 1.0,
        max_poll_interval: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> StackInfo:
        """Wait until the stack (name or id) is no longer in progress; return it if it succeeded.
        Polls every ``poll_interval`` seconds, each interval ``backoff`` times the last, up to
        ``max_poll_interval``.

        Raises ``StackDeploymentFailed`` with CloudFormation's reason when it ends failed or
        rolled back, or when it is still in progress after ``timeout`` seconds.
        """
        ...

    def list_managed_stacks(
        self, *, tag_key: str | None = "stockade:tenant", name_prefix: str = ""
    ) -> list[StackInfo]:
        """Every live stack carrying the tag ``tag_key`` (None: any) whose name starts with
        ``name_prefix``, with tags, parameters and outputs, in a few paginated calls."""
        ...


class CloudPort(SessionIssuer, Protocol):
    """The engine's entry point to AWS: the management account plus any tenant account, and
    people's sessions in tenant accounts (``SessionIssuer``)."""

    def organizations(self) -> OrganizationsPort: ...

    def management_account_id(self) -> str:
        """The account Stockade runs as (the organization's management account)."""
        ...

    def stacks(self, *, account_id: str, role_name: str, region: str) -> StacksPort:
        """CloudFormation in ``account_id`` through ``role_name`` (assumed from Stockade)."""
        ...

    def credentials(self, *, account_id: str, role_name: str) -> CredentialsPort:
        """IAM's long-lived credentials in ``account_id``, read through ``role_name`` (the
        baseline's scan role)."""
        ...


class CredentialsPort(Protocol):
    """IAM reads in one tenant account, for credential scans (``engine.scan``).

    The inventory types live in ``domain.credentials`` (pure), which classifies them."""

    def inventory(self) -> AccountCredentials:
        """Every IAM user with its access keys (and, for active keys, when and with which
        service each was last used), whether it has a console password and, if so, how many
        MFA devices; and whether the root user has access keys (None if the account summary is
        not visible to the role). ``CloudAccessDenied`` when the role cannot be assumed or may
        not list users."""
        ...
