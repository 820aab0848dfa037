"""Rollout states and tenant statuses as the API spells them, for the CLI's logic and colours.

They mirror ``stockade.store.rollout_types.RolloutState`` and ``TenantStatus`` (a test keeps
them equal): importing ``stockade.store`` would load SQLAlchemy into every CLI command.

Who calls it: ``stockade.cli.progress``, ``stockade.cli.rollout``, ``stockade.cli.render``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class RolloutStateName(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    HALTED = "halted"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class TenantStatusName(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


#: states a rollout may still leave by itself
LIVE_STATES: Final = frozenset({RolloutStateName.PENDING, RolloutStateName.RUNNING})
#: statuses of the tenants a wave is done with
DONE_STATUSES: Final = (
    TenantStatusName.SUCCEEDED,
    TenantStatusName.FAILED,
    TenantStatusName.SKIPPED,
)
#: statuses after which a tenant's stacks may differ from before the rollout (what a rollback
#: redeploys)
CHANGED_STATUSES: Final = frozenset(
    {TenantStatusName.RUNNING, TenantStatusName.SUCCEEDED, TenantStatusName.FAILED}
)
