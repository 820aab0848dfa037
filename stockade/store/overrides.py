"""Tenant overrides: read and write each tenant's ``TenantOverrides`` (parameters, pins, features).

Who calls it: the API and CLI (showing and changing a tenant's overrides, after checking them
with ``domain.release.check_overrides``), the engine (planning one tenant, or the whole fleet
with ``overrides_for_all`` in one query). The overrides live in the ``tenants.overrides`` JSON
column (``{}``: none). A change appends a ``tenant.overrides`` audit event in the same
transaction; setting the overrides a tenant already has changes nothing and records nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pydantic
from sqlalchemy import select

from stockade.domain.errors import NotFoundError, StoreError
from stockade.domain.release import NO_OVERRIDES, TenantOverrides
from stockade.store.audit import AuditLog
from stockade.store.db import Database
from stockade.store.models import TenantRow

__all__ = ["OverridesRepository"]


def _to_json(overrides: TenantOverrides) -> dict[str, Any]:
    """The stored form: only the fields that are set, so no overrides is ``{}``."""
    return overrides.model_dump(mode="json", exclude_defaults=True)


def _to_overrides(tenant_id: str, data: dict[str, Any] | None) -> TenantOverrides:
    if not data:
        return NO_OVERRIDES
    try:
        return TenantOverrides.model_validate(data)
    except pydantic.ValidationError as exc:
        raise StoreError(
            f"the stored overrides of tenant {tenant_id!r} are invalid: "
            f"{exc.errors()[0].get('msg', exc) if exc.errors() else exc}",
            hint="set the tenant's overrides again",
        ) from exc


def _not_found(tenant_id: str) -> NotFoundError:
    return NotFoundError(
        f"tenant {tenant_id!r} does not exist",
        hint="list tenants with `stockade tenant list`",
    )


class OverridesRepository:
    """The ``overrides`` column of the ``tenants`` table."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def get_overrides(self, tenant_id: str) -> TenantOverrides:
        """The tenant's overrides (``NO_OVERRIDES`` if none); NotFoundError for no tenant."""
        with self._db.session(write=False) as session:
            row = session.execute(
                select(TenantRow.overrides).where(TenantRow.tenant_id == tenant_id)
            ).first()
        if row is None:
            raise _not_found(tenant_id)
        return _to_overrides(tenant_id, row.overrides)

    def set_overrides(
        self, tenant_id: str, overrides: TenantOverrides, *, actor: str
    ) -> TenantOverrides:
        """Replace the tenant's overrides. Returns them; NotFoundError for no tenant."""
        stored = _to_json(overrides)
        with self._db.session() as session:
            row = session.scalars(
                select(TenantRow).where(TenantRow.tenant_id == tenant_id).with_for_update()
            ).first()
            if row is None:
                raise _not_found(tenant_id)
            before = row.overrides or {}
            if before == stored:
                return overrides
            row.overrides = stored
            row.updated_at = datetime.now(UTC)
            session.flush()
            self._audit.append_in(
                session,
                actor,
                "tenant.overrides",
                tenant_id,
                {"before": before, "after": stored},
            )
        return overrides

    def overrides_for_all(self) -> dict[str, TenantOverrides]:
        """Every tenant's overrides by tenant id, in one query. Tenants without overrides map
        to the shared ``NO_OVERRIDES`` (which ``plan_fleet`` recognizes without hashing), and
        tenants with equal overrides share one object."""
        query = select(TenantRow.tenant_id, TenantRow.overrides)
        parsed: dict[str, TenantOverrides] = {}
        result: dict[str, TenantOverrides] = {}
        with self._db.session(write=False) as session:
            rows = session.execute(query).all()
        for tenant_id, data in rows:
            if not data:
                result[tenant_id] = NO_OVERRIDES
                continue
            key = _canonical(data)
            overrides = parsed.get(key)
            if overrides is None:
                overrides = parsed[key] = _to_overrides(tenant_id, data)
            result[tenant_id] = overrides
        return result


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
