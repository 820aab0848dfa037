"""Plans: the actions (create, update, delete, none) between desired and deployed stacks, and why.

``plan_tenant`` compares a tenant's desired stacks (``domain.stacks.desired_stacks``) with what is
**deployed** (``DeployedStack``, read from the stack tags in the tenant account) and, when given,
what Stockade **recorded** in its database (``RecordedStack``). The action follows what is
deployed; where the tags and the record disagree (someone changed the stack or its tags out of
band, or the record is stale), the reason says so and ``StackAction.out_of_band`` names the tags.
Only stacks Stockade manages are ever deleted: those tagged ``stockade:tenant`` with this tenant's
id, or named ``stockade-svc-...`` without a tenant tag; any other stack is listed in
``TenantPlan.unmanaged`` and left alone. A stack whose only difference is an older
``stockade:release`` tag is left as it is (``none``): a release touches only what it changes.

``plan_fleet`` plans every tenant, memoizing desired stacks per (tier, overrides), since most
tenants share them, and sums the actions. Actions within a tenant come in a safe order: creates
and updates in deployment order (baseline, then services), then deletes (services first), then
stale database records (``none``).

Who calls it: the engine (``stockade plan``/``apply``, rollouts), the API
(``POST /api/v1/plans``), the CLI (rendering), ``bench/plan.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from stockade.domain.errors import StockadeError
from stockade.domain.release import (
    NO_OVERRIDES,
    SERVICE_STACK_PREFIX,
    Release,
    StackKind,
    TenantOverrides,
)
from stockade.domain.stacks import (
    TAG_PARAMS,
    TAG_RELEASE,
    TAG_TEMPLATE,
    TAG_VERSION,
    DeployedStack,
    DesiredStack,
    RecordedStack,
    desired_stacks,
)

__all__ = [
    "RECREATE_STATES",
    "Action",
    "DeployedStack",
    "DesiredStack",
    "FleetPlan",
    "RecordedStack",
    "StackAction",
    "TenantPlan",
    "TenantSnapshot",
    "desired_stacks",
    "plan_fleet",
    "plan_tenant",
]

RECREATE_STATES = frozenset(
    {
        "CREATE_FAILED",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "DELETE_FAILED",
    }
)
_GONE = frozenset({"DELETE_COMPLETE"})
#: states in which a stack is usable and no operation runs
_SETTLED = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
_UP_TO_DATE = "up to date"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class StackAction:
    """What to do with one stack, and why (one human-readable line)."""

    stack_name: str
    action: Action
    reason: str
    service: str | None = None
    #: what to deploy (``None`` for a delete)
    desired: DesiredStack | None = None
    #: what the account has (``None`` if the stack does not exist)
    deployed: DeployedStack | None = None
    #: tags on which the deployed stack and Stockade's record disagree
    out_of_band: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TenantPlan:
    tenant_id: str
    actions: tuple[StackAction, ...] = ()
    #: stacks in the account Stockade does not manage: never touched
    unmanaged: tuple[str, ...] = ()
    #: why no plan could be made for this tenant (unknown tier, bad pin)
    error: str | None = None

    @property
    def changes(self) -> tuple[StackAction, ...]:
        return tuple(a for a in self.actions if a.action is not Action.NONE)

    @property
    def counts(self) -> dict[Action, int]:
        counts = Counter(a.action for a in self.actions)
        return {action: counts.get(action, 0) for action in Action}


@dataclass(frozen=True, slots=True)
class TenantSnapshot:
    """One tenant as ``plan_fleet`` needs it: recorded facts plus what its account holds."""

    tenant_id: str
    tier: str
    deployed: Sequence[DeployedStack]
    overrides: TenantOverrides = NO_OVERRIDES
    #: ``None``: the database is not consulted (no out-of-band comparison)
    recorded: Sequence[RecordedStack] | None = None


@dataclass(frozen=True, slots=True)
class FleetPlan:
    release_id: str
    tenants: tuple[TenantPlan, ...]
    #: stack actions by kind, over the whole fleet
    counts: Mapping[Action, int] = field(default_factory=dict)
    #: tenants with at least one create, update or delete
    tenants_changed: int = 0
    #: tenants that could not be planned (see ``TenantPlan.error``)
    tenants_failed: int = 0

    def summary(self) -> dict[str, object]:
        """Counts as plain JSON-ready values."""
        return {
            "release_id": self.release_id,
            "tenants": len(self.tenants),
            "tenants_changed": self.tenants_changed,
            "tenants_failed": self.tenants_failed,
            **{action.value: self.counts.get(action, 0) for action in Action},
        }


# --- diffing -------------------------------------------------------------------------------

_TAGGED = (
    (TAG_VERSION, "version"),
    (TAG_TEMPLATE, "template_sha256"),
    (TAG_PARAMS, "params_sha256"),
    (TAG_RELEASE, "release_id"),
)


def _out_of_band(deployed: DeployedStack, recorded: RecordedStack) -> tuple[str, ...]:
    if (
        deployed.params_sha256 == recorded.params_sha256
        and deployed.version == recorded.version
        and deployed.template_sha256 == recorded.template_sha256
        and deployed.release_id == recorded.release_id
    ):
        return ()  # the common case, without the generic loop
    return tuple(tag for tag, attr in _TAGGED if getattr(deployed, attr) != getattr(recorded, attr))


def _oob_note(tags: tuple[str, ...]) -> str:
    if len(tags) == 1:
        return f"out-of-band change: stack tag {tags[0]} differs from what Stockade recorded"
    return f"out-of-band change: stack tags {', '.join(tags)} differ from what Stockade recorded"


def _changed_parameters(
    desired: DesiredStack, deployed: DeployedStack, recorded: RecordedStack | None
) -> str:
    if deployed.params_sha256 is None:
        return f"parameters not known (no {TAG_PARAMS} tag)"
    if (
        recorded is not None
        and recorded.parameters is not None
        and recorded.params_sha256 == deployed.params_sha256
    ):
        before, after = recorded.parameters, desired.parameters
        names = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if names:
            return "parameters changed: " + ", ".join(names)
    return "parameters changed"


def _pin_note(desired: DesiredStack) -> str:
    return f"pinned to release {desired.release_id[:12]}"


def _compare(
    desired: DesiredStack, deployed: DeployedStack | None, recorded: RecordedStack | None
) -> StackAction:
    if (
        deployed is not None
        and deployed.params_sha256 == desired.params_sha256
        and deployed.version == desired.version
        and deployed.template_sha256 == desired.template_sha256
        and deployed.status in _SETTLED
        and not desired.pinned
        and (recorded is None or not _out_of_band(deployed, recorded))
    ):
        # the common case at fleet scale, decided without building notes
        return StackAction(
            desired.stack_name, Action.NONE, _UP_TO_DATE, desired.service, desired, deployed
        )
    notes: list[str] = []
    oob: tuple[str, ...] = ()
    if deployed is None:
        if recorded is not None:
            reason = "recorded as deployed but missing from the account (deleted out of band)"
        elif desired.kind is StackKind.SERVICE:
            reason = f"new service {desired.service}"
        else:
            reason = f"new baseline stack {desired.stack_name}"
        if desired.pinned:
            reason += "; " + _pin_note(desired)
        return StackAction(
            desired.stack_name, Action.CREATE, reason, desired.service, desired, None
        )
    if recorded is not None:
        oob = _out_of_band(deployed, recorded)
        if oob:
            notes.append(_oob_note(oob))
    status = deployed.status
    if status in RECREATE_STATES or status in ("DELETE_IN_PROGRESS", "REVIEW_IN_PROGRESS"):
        reason = f"stack in {status}, recreate"
        return StackAction(
            desired.stack_name,
            Action.CREATE,
            "; ".join([reason, *notes]),
            desired.service,
            desired,
            deployed,
            oob,
        )
    changes: list[str] = []
    if deployed.version is None and deployed.template_sha256 is None:
        changes.append("stack has no Stockade tags, adopt it")
    else:
        if deployed.version != desired.version:
            changes.append(f"version {deployed.version or '?'} → {desired.version}")
        if deployed.template_sha256 != desired.template_sha256:
            changes.append("template changed")
        if deployed.params_sha256 != desired.params_sha256:
            changes.append(_changed_parameters(desired, deployed, recorded))
    if desired.pinned:
        notes.append(_pin_note(desired))
    if status == "UPDATE_ROLLBACK_FAILED":
        notes.append("stack in UPDATE_ROLLBACK_FAILED: its rollback must be continued first")
    elif status.endswith("_IN_PROGRESS"):
        notes.append(f"stack is {status}")
    action = Action.UPDATE if changes else Action.NONE
    reason = "; ".join([*(changes or [_UP_TO_DATE]), *notes])
    return StackAction(desired.stack_name, action, reason, desired.service, desired, deployed, oob)


def _managed(tenant_id: str, stack: DeployedStack) -> bool:
    if stack.tenant is not None:
        return stack.tenant == tenant_id
    return stack.stack_name.startswith(SERVICE_STACK_PREFIX)


def _removal_reason(stack: DeployedStack, release: Release | None, tier: str | None) -> str:
    service = stack.service
    if service is None and stack.stack_name.startswith(SERVICE_STACK_PREFIX):
        service = stack.stack_name.removeprefix(SERVICE_STACK_PREFIX)
    if service is not None:
        if release is not None and service in release.services:
            reason = f"service {service} is not in " + (
                f"tier {tier}" if tier is not None else "the tenant's tier"
            )
        elif release is not None:
            reason = f"service {service} was removed from the release"
        else:
            reason = f"service {service} is no longer wanted"
    else:
        reason = f"stack {stack.stack_name} is no longer in the release"
    if stack.status in RECREATE_STATES:
        reason += f" (stack in {stack.status})"
    return reason


def plan_tenant(
    tenant_id: str,
    desired: Sequence[DesiredStack],
    deployed: Iterable[DeployedStack],
    recorded: Iterable[RecordedStack] | None = None,
    *,
    release: Release | None = None,
    tier: str | None = None,
) -> TenantPlan:
    """The actions that take ``tenant_id``'s account from ``deployed`` to ``desired``.

    ``recorded`` (what the database says Stockade deployed) enables out-of-band detection;
    ``release`` and ``tier`` only sharpen the reasons for deletes."""
    present = {s.stack_name: s for s in deployed if s.status not in _GONE}
    records = {r.stack_name: r for r in recorded} if recorded is not None else {}
    wanted = {d.stack_name for d in desired}
    actions = [_compare(d, present.get(d.stack_name), records.get(d.stack_name)) for d in desired]
    unmanaged: list[str] = []
    deletes: list[StackAction] = []
    for name, stack in present.items():
        if name in wanted:
            continue
        if not _managed(tenant_id, stack):
            unmanaged.append(name)
            continue
        record = records.get(name)
        oob = _out_of_band(stack, record) if record is not None else ()
        if stack.status == "DELETE_IN_PROGRESS":
            action, reason = Action.NONE, "being deleted"
        else:
            action, reason = Action.DELETE, _removal_reason(stack, release, tier)
        if oob:
            reason += "; " + _oob_note(oob)
        deletes.append(StackAction(name, action, reason, stack.service, None, stack, oob))
    # services before the baseline they depend on
    deletes.sort(key=lambda a: not a.stack_name.startswith(SERVICE_STACK_PREFIX))
    stale = [
        StackAction(
            name,
            Action.NONE,
            "recorded by Stockade but gone from the account (deleted out of band); "
            "nothing to delete",
        )
        for name in records
        if name not in present and name not in wanted
    ]
    return TenantPlan(tenant_id, tuple(actions + deletes + stale), tuple(sorted(unmanaged)))


def plan_fleet(
    release: Release,
    tenants: Iterable[TenantSnapshot],
    releases_by_id: Mapping[str, Release] | None = None,
) -> FleetPlan:
    """Plan every tenant against ``release``; desired stacks are computed once per distinct
    (tier, overrides). A tenant whose desired state cannot be resolved gets ``error`` set and
    no actions, and does not stop the others."""
    known = {**(releases_by_id or {}), release.release_id: release}
    memo: dict[tuple[str, str], list[DesiredStack] | str] = {}
    plans: list[TenantPlan] = []
    counts: Counter[Action] = Counter()
    changed = failed = 0
    for tenant in tenants:
        overrides = tenant.overrides
        key = (tenant.tier, "" if overrides is NO_OVERRIDES else overrides.key)
        desired = memo.get(key)
        if desired is None:
            try:
                desired = desired_stacks(release, tenant.tier, overrides, known)
            except StockadeError as exc:
                desired = exc.message
            memo[key] = desired
        if isinstance(desired, str):
            plans.append(TenantPlan(tenant.tenant_id, error=desired))
            failed += 1
            continue
        plan = plan_tenant(
            tenant.tenant_id,
            desired,
            tenant.deployed,
            tenant.recorded,
            release=release,
            tier=tenant.tier,
        )
        plans.append(plan)
        tenant_changed = False
        for action in plan.actions:
            counts[action.action] += 1
            tenant_changed = tenant_changed or action.action is not Action.NONE
        changed += tenant_changed
    return FleetPlan(
        release_id=release.release_id,
        tenants=tuple(plans),
        counts={action: counts.get(action, 0) for action in Action},
        tenants_changed=changed,
        tenants_failed=failed,
    )
