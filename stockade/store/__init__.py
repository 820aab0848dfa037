"""Stockade's state: SQLAlchemy 2 models and repositories, Alembic migrations, the audit chain.

Who calls it: the composition root (``stockade.server``) builds a ``Database`` and the
repositories and hands them to the engine and the API; tests do the same. The store imports
only ``stockade.domain`` from Stockade and returns domain values, never ORM rows.
"""

from stockade.store.audit import AuditEvent, AuditLog, AuditProblem, AuditVerification
from stockade.store.db import Database
from stockade.store.deployments import Deployment, DeploymentRepository, Observation
from stockade.store.meta import MetaStore
from stockade.store.overrides import OverridesRepository
from stockade.store.releases import ReleaseRepository, ReleaseSummary
from stockade.store.rollout_types import (
    Rollout,
    RolloutState,
    RolloutTenant,
    RolloutWave,
    TenantStatus,
)
from stockade.store.rollouts import RolloutRepository
from stockade.store.tenants import TenantRepository
from stockade.store.tokens import ROLES, TokenInfo, TokenStore

__all__ = [
    "ROLES",
    "AuditEvent",
    "AuditLog",
    "AuditProblem",
    "AuditVerification",
    "Database",
    "Deployment",
    "DeploymentRepository",
    "MetaStore",
    "Observation",
    "OverridesRepository",
    "ReleaseRepository",
    "ReleaseSummary",
    "Rollout",
    "RolloutRepository",
    "RolloutState",
    "RolloutTenant",
    "RolloutWave",
    "TenantRepository",
    "TenantStatus",
    "TokenInfo",
    "TokenStore",
]
