"""Tenant records: create, read, lifecycle transitions and the onboarding bookkeeping.

Who calls it: the engine's tenant service and onboarding workflow steps (create, transition,
retry, record_*), the API (get, list, counts) and the sandbox reset (``delete_all``). Returns
``domain.tenant.Tenant`` values, never ORM rows. Every state change writes its audit event in
the same transaction, so the record and the audit trail cannot disagree.

Concurrency: a read that decides a write runs in a write session (SQLite: ``BEGIN IMMEDIATE``)
and locks the tenant row (PostgreSQL: ``SELECT ... FOR UPDATE``); duplicate creates racing past
the existence check are caught at the unique constraints.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stockade.domain.errors import ConflictError, NotFoundError
from stockade.domain.tenant import (
    Tenant,
    TenantRequest,
    TenantState,
    check_transition,
    validate_tenant_id,
)
from stockade.store.audit import AuditLog
from stockade.store.db import Database
from stockade.store.models import TenantRow

SYSTEM_ACTOR = "stockade"


def _to_tenant(row: TenantRow) -> Tenant:
    return Tenant(
        tenant_id=row.tenant_id,
        name=row.name,
        tier=row.tier,
        state=TenantState(row.state),
        labels=dict(row.labels),
        account_id=row.account_id,
        account_email=row.account_email,
        create_request_id=row.create_request_id,
        failure_reason=row.failure_reason,
        failed_step=row.failed_step,
        attempt=row.attempt,
        warnings=tuple(row.warnings),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _not_found(tenant_id: str) -> NotFoundError:
    return NotFoundError(
        f"tenant {tenant_id!r} does not exist",
        hint="list tenants with `stockade tenant list`",
    )


def _already_exists(tenant_id: str) -> ConflictError:
    return ConflictError(
        f"tenant {tenant_id!r} already exists",
        hint=f"choose another id, or inspect it with `stockade tenant show {tenant_id}`",
    )


def _email_taken(email: str, owner: str) -> ConflictError:
    return ConflictError(
        f"account e-mail {email!r} is already used by tenant {owner!r}",
        hint="AWS account e-mails are unique: check the spec's naming.account_email pattern",
    )


class TenantRepository:
    """The ``tenants`` table, with audit events for every change."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    # -- create and read -----------------------------------------------------------------

    def create(self, request: TenantRequest, *, email: str, actor: str) -> Tenant:
        """Record a new tenant in state ``requested``. ConflictError on a duplicate id or
        e-mail (also when two creates race); nothing is written then."""
        validate_tenant_id(request.tenant_id)
        try:
            with self._db.session() as session:
                self._check_unique(session, request.tenant_id, email)
                now = datetime.now(UTC)
                row = TenantRow(
                    tenant_id=request.tenant_id,
                    name=request.name,
                    tier=request.tier,
                    state=TenantState.REQUESTED.value,
                    labels=dict(request.labels),
                    account_email=email,
                    attempt=1,
                    warnings=[],
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()  # the unique constraints decide a race before the audit lock
                self._audit.append_in(
                    session,
                    actor,
                    "tenant.create",
                    request.tenant_id,
                    {
                        "tier": request.tier,
                        "name": request.name,
                        "labels": dict(request.labels),
                        "account_email": email,
                    },
                )
                return _to_tenant(row)
        except IntegrityError as exc:
            raise self._duplicate_error(request.tenant_id, email) from exc

    @staticmethod
    def _check_unique(session: Session, tenant_id: str, email: str) -> None:
        clash = session.execute(
            select(TenantRow.tenant_id, TenantRow.account_email).where(
                or_(TenantRow.tenant_id == tenant_id, TenantRow.account_email == email)
            )
        ).first()
        if clash is None:
            return
        if clash.tenant_id == tenant_id:
            raise _already_exists(tenant_id)
        raise _email_taken(email, clash.tenant_id)

    def _duplicate_error(self, tenant_id: str, email: str) -> ConflictError:
        with self._db.session(write=False) as session:
            try:
                self._check_unique(session, tenant_id, email)
            except ConflictError as exc:
                return exc
        return ConflictError(
            f"tenant {tenant_id!r} conflicts with a tenant created at the same time",
            hint="retry the request",
        )

    def get(self, tenant_id: str) -> Tenant:
        """The tenant, or NotFoundError."""
        tenant = self.find(tenant_id)
        if tenant is None:
            raise _not_found(tenant_id)
        return tenant

    def find(self, tenant_id: str) -> Tenant | None:
        with self._db.session(write=False) as session:
            row = session.get(TenantRow, tenant_id)
            return None if row is None else _to_tenant(row)

    def list(
        self,
        *,
        state: TenantState | None = None,
        tier: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> builtins.list[Tenant]:
        """Tenants in creation order (then id), optionally filtered by state and tier."""
        query = select(TenantRow).order_by(TenantRow.created_at, TenantRow.tenant_id)
        if state is not None:
            query = query.where(TenantRow.state == TenantState(state).value)
        if tier is not None:
            query = query.where(TenantRow.tier == tier)
        query = query.limit(max(0, limit)).offset(max(0, offset))
        with self._db.session(write=False) as session:
            return [_to_tenant(row) for row in session.scalars(query)]

    def in_states(self, states: Iterable[TenantState]) -> builtins.list[Tenant]:
        """Every tenant in one of ``states`` (e.g. to resume onboarding after a restart)."""
        values = sorted({TenantState(s).value for s in states})
        if not values:
            return []
        query = (
            select(TenantRow)
            .where(TenantRow.state.in_(values))
            .order_by(TenantRow.created_at, TenantRow.tenant_id)
        )
        with self._db.session(write=False) as session:
            return [_to_tenant(row) for row in session.scalars(query)]

    def count_by_state(self) -> dict[TenantState, int]:
        """How many tenants are in each state; every state is present, zeros included."""
        counts = dict.fromkeys(TenantState, 0)
        query = select(TenantRow.state, func.count()).group_by(TenantRow.state)
        with self._db.session(write=False) as session:
            for state, count in session.execute(query):
                counts[TenantState(state)] = int(count)
        return counts

    # -- lifecycle -----------------------------------------------------------------------

    def _locked(self, session: Session, tenant_id: str) -> TenantRow:
        row = session.scalars(
            select(TenantRow).where(TenantRow.tenant_id == tenant_id).with_for_update()
        ).first()
        if row is None:
            raise _not_found(tenant_id)
        return row

    def transition(
        self,
        tenant_id: str,
        target: TenantState,
        *,
        actor: str,
        reason: str | None = None,
        failed_step: str | None = None,
    ) -> Tenant:
        """Move the tenant to ``target`` if the lifecycle allows it, else ConflictError (and
        nothing changes). Already in ``target``: no change, no audit event (steps re-run)."""
        target = TenantState(target)
        with self._db.session() as session:
            row = self._locked(session, tenant_id)
            current = TenantState(row.state)
            check_transition(tenant_id, current, target)
            if current == target:
                return _to_tenant(row)
            row.state = target.value
            if target == TenantState.FAILED:
                row.failure_reason = reason
                row.failed_step = failed_step
            elif current == TenantState.FAILED:
                row.failure_reason = None
                row.failed_step = None
            row.updated_at = datetime.now(UTC)
            details: dict[str, object] = {"from": current.value, "to": target.value}
            if reason is not None:
                details["reason"] = reason
            if failed_step is not None:
                details["failed_step"] = failed_step
            self._audit.append_in(session, actor, f"tenant.{target.value}", tenant_id, details)
            return _to_tenant(row)

    def retry(self, tenant_id: str, *, actor: str) -> Tenant:
        """Resume a failed tenant: next attempt, back to ``provisioning``, failure cleared."""
        with self._db.session() as session:
            row = self._locked(session, tenant_id)
            if row.state != TenantState.FAILED.value:
                raise ConflictError(
                    f"tenant {tenant_id!r} is {row.state}; only a failed tenant can be retried",
                    hint=f"see `stockade tenant show {tenant_id}`",
                )
            details = {
                "attempt": row.attempt + 1,
                "failure_reason": row.failure_reason,
                "failed_step": row.failed_step,
            }
            row.attempt += 1
            row.state = TenantState.PROVISIONING.value
            row.failure_reason = None
            row.failed_step = None
            row.updated_at = datetime.now(UTC)
            self._audit.append_in(session, actor, "tenant.retry", tenant_id, details)
            return _to_tenant(row)

    # -- onboarding bookkeeping ----------------------------------------------------------

    def record_create_intent(self, tenant_id: str) -> None:
        """Note that CreateAccount is about to be called (kept from the first call on)."""
        with self._db.session() as session:
            row = self._locked(session, tenant_id)
            if row.create_intent_at is None:
                row.create_intent_at = row.updated_at = datetime.now(UTC)

    def create_intent_at(self, tenant_id: str) -> datetime | None:
        """When CreateAccount was first about to be called, or None if never."""
        with self._db.session(write=False) as session:
            row = session.get(TenantRow, tenant_id)
            if row is None:
                raise _not_found(tenant_id)
            return row.create_intent_at

    def record_create_request(self, tenant_id: str, request_id: str) -> None:
        """Keep CreateAccount's request id, so a re-run step polls it instead of creating."""
        with self._db.session() as session:
            row = self._locked(session, tenant_id)
            if row.create_request_id != request_id:
                row.create_request_id = request_id
                row.updated_at = datetime.now(UTC)

    def clear_create_request(self, tenant_id: str) -> None:
        """Forget a CreateAccount request that AWS reported FAILED (and the intent before it),
        so the next attempt sends a new CreateAccount instead of polling the failed one."""
        with self._db.session() as session:
            row = self._locked(session, tenant_id)
            if row.create_request_id is not None or row.create_intent_at is not None:
                row.create_request_id = None
                row.create_intent_at = None
                row.updated_at = datetime.now(UTC)

    def record_account(self, tenant_id: str, account_id: str) -> None:
        """Record the tenant's AWS account id. Idempotent; ConflictError if another account id
        is already recorded for this tenant, or this account belongs to another tenant."""
        try:
            with self._db.session() as session:
                row = self._locked(session, tenant_id)
                if row.account_id == account_id:
                    return
                if row.account_id is not None:
                    raise ConflictError(
                        f"tenant {tenant_id!r} already has account {row.account_id}, "
                        f"not {account_id}",
                        hint="an account id never changes; investigate the second account",
                    )
                owner = session.scalar(
                    select(TenantRow.tenant_id).where(TenantRow.account_id == account_id)
                )
                if owner is not None:
                    raise ConflictError(
                        f"account {account_id} is already recorded for tenant {owner!r}",
                        hint="an account belongs to one tenant; investigate the duplicate",
                    )
                row.account_id = account_id
                row.updated_at = datetime.now(UTC)
                session.flush()
                self._audit.append_in(
                    session, SYSTEM_ACTOR, "tenant.account", tenant_id, {"account_id": account_id}
                )
        except IntegrityError as exc:
            raise ConflictError(
                f"account {account_id} is already recorded for another tenant",
                hint="an account belongs to one tenant; investigate the duplicate",
            ) from exc

    def add_warning(self, tenant_id: str, text: str) -> None:
        """Attach a warning shown with the tenant (kept once however often it is added)."""
        with self._db.session() as session:
            row = self._locked(session, tenant_id)
            if text not in row.warnings:
                row.warnings = [*row.warnings, text]
                row.updated_at = datetime.now(UTC)

    def delete_all(self) -> int:
        """Delete every tenant record (only when the sandbox and the database start fresh
        together). The audit trail keeps everything, plus one event saying so."""
        with self._db.session() as session:
            deleted = len(session.scalars(delete(TenantRow).returning(TenantRow.tenant_id)).all())
            self._audit.append_in(
                session, SYSTEM_ACTOR, "tenant.delete_all", "tenants", {"deleted": deleted}
            )
            return deleted


__all__ = ["TenantRepository"]
