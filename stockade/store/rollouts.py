"""Rollouts: create them from wave plans, move them through their states, track every tenant.

Who calls it: the engine's rollout workflow (``create`` from ``domain.waves.plan_waves``,
``transition``, ``next_pending``, ``mark_tenant``, ``add_operations``, ``wave_counts`` to
decide halting, ``changed_tenants`` for a rollback), the API and CLI (``get``, ``list``, halt,
resume). Returns the values of ``store.rollout_types``, never ORM rows; the state machines are
there too.

Creating a rollout and every state transition append an audit event in the same transaction.
Per-tenant progress (``mark_tenant``, ``add_operations``) is not audited: for 6,000 tenants it
would be 12,000 events per rollout, serialized on the audit chain's lock; the
``rollout_tenants`` rows are the durable record of it. Tenants are inserted in one bulk
statement; ``(rollout_id, wave, status, position)`` is indexed, so counting a wave and finding
its next pending tenants stay cheap at fleet size.
"""

from __future__ import annotations

import builtins
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stockade.domain.errors import ConflictError, NotFoundError, ValidationError
from stockade.domain.waves import WavePlan
from stockade.store.audit import AuditLog
from stockade.store.db import Database
from stockade.store.models import ReleaseRow, RolloutRow, RolloutTenantRow
from stockade.store.rollout_queries import (
    ADD_OPERATIONS,
    MARK,
    TENANT,
    TENANT_COLUMNS,
    check_waves,
    counts_by_wave,
    to_rollout,
    to_tenant,
    wave_spec,
)
from stockade.store.rollout_types import (
    CHANGED_STATUSES,
    OPEN_ROLLOUT_STATES,
    ROLLOUT_TRANSITIONS,
    Rollout,
    RolloutState,
    RolloutTenant,
    TenantStatus,
    zero_counts,
)

__all__ = ["RolloutRepository", "new_rollout_id"]

_MAX_ID = 32


def new_rollout_id() -> str:
    """``ro-`` + milliseconds since the epoch (hex) + 24 random bits: sorts by creation."""
    return f"ro-{time.time_ns() // 1_000_000:011x}{secrets.token_hex(3)}"


def _not_found(rollout_id: str) -> NotFoundError:
    return NotFoundError(
        f"rollout {rollout_id!r} does not exist",
        hint="list rollouts with `stockade rollout list`",
    )


def _id_taken(rollout_id: str) -> ConflictError:
    return ConflictError(
        f"rollout {rollout_id!r} already exists for another release",
        hint="use a new rollout id",
    )


def _tenant_not_found(rollout_id: str, tenant_id: str) -> NotFoundError:
    return NotFoundError(
        f"tenant {tenant_id!r} is not in rollout {rollout_id!r}",
        hint=f"see `stockade rollout show {rollout_id}`",
    )


class RolloutRepository:
    """The ``rollouts`` and ``rollout_tenants`` tables."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    @staticmethod
    def _with_counts(session: Session, row: RolloutRow) -> Rollout:
        return to_rollout(row, counts_by_wave(session, [row.id]).get(row.id, {}))

    # -- create and read -----------------------------------------------------------------

    def create(
        self,
        release_id: str,
        waves: Sequence[WavePlan],
        *,
        actor: str,
        previous_release_id: str | None = None,
        rollback_of: str | None = None,
        rollout_id: str | None = None,
        max_in_flight: int = 200,
        jitter_seconds: float = 0.0,
    ) -> Rollout:
        """Record a ``pending`` rollout of ``release_id`` with every tenant ``pending``.

        ``rollout_id``: give one to make a re-run create idempotent (a crashed workflow step):
        if that rollout exists for the same release it is returned unchanged, for another
        release it is a ConflictError. NotFoundError for an unknown release or rollback_of;
        ValidationError if a tenant appears in two waves."""
        check_waves(waves)
        rollout_id = rollout_id or new_rollout_id()
        if not rollout_id or len(rollout_id) > _MAX_ID:
            raise ValidationError(f"a rollout id must be 1..{_MAX_ID} characters")
        try:
            return self._create(
                rollout_id,
                release_id,
                waves,
                actor=actor,
                previous_release_id=previous_release_id,
                rollback_of=rollback_of,
                policy=(max_in_flight, jitter_seconds),
            )
        except IntegrityError as exc:
            # the same id created at the same moment by another process (a concurrent re-run)
            with self._db.session(write=False) as session:
                existing = session.get(RolloutRow, rollout_id)
                if existing is None:
                    raise
                if existing.release_id != release_id:
                    raise _id_taken(rollout_id) from exc
                return self._with_counts(session, existing)

    def _create(
        self,
        rollout_id: str,
        release_id: str,
        waves: Sequence[WavePlan],
        *,
        actor: str,
        previous_release_id: str | None,
        rollback_of: str | None,
        policy: tuple[int, float],
    ) -> Rollout:
        now = datetime.now(UTC)
        with self._db.session() as session:
            existing = session.get(RolloutRow, rollout_id)
            if existing is not None:
                if existing.release_id != release_id:
                    raise _id_taken(rollout_id)
                return self._with_counts(session, existing)
            blocking = session.scalars(
                select(RolloutRow.id)
                .where(RolloutRow.state.in_([s.value for s in OPEN_ROLLOUT_STATES]))
                .where(RolloutRow.id != (rollback_of or ""))
                .limit(1)
            ).first()
            if blocking is not None:
                raise ConflictError(
                    f"rollout {blocking} is still open",
                    hint=f"wait for it, or halt it and resume or roll back "
                    f"(`stockade rollout show {blocking}`)",
                )
            for wanted in filter(None, (release_id, previous_release_id)):
                if session.get(ReleaseRow, wanted) is None:
                    raise NotFoundError(
                        f"release {wanted[:12]} does not exist",
                        hint="store the release before rolling it out",
                    )
            if rollback_of is not None and session.get(RolloutRow, rollback_of) is None:
                raise _not_found(rollback_of)
            row = RolloutRow(
                id=rollout_id,
                release_id=release_id,
                previous_release_id=previous_release_id,
                rollback_of=rollback_of,
                state=RolloutState.PENDING.value,
                waves=[wave_spec(wave) for wave in waves],
                halt_reason=None,
                created_by=actor,
                updated_by=actor,
                created_at=now,
                updated_at=now,
                runs=0,
                max_in_flight=policy[0],
                jitter_seconds=policy[1],
            )
            session.add(row)
            session.flush()
            rows = [
                {
                    "rollout_id": rollout_id,
                    "tenant_id": tenant_id,
                    "wave": index,
                    "position": position,
                    "status": TenantStatus.PENDING.value,
                    "attempts": 0,
                    "operations": 0,
                }
                for index, wave in enumerate(waves)
                for position, tenant_id in enumerate(wave.tenant_ids)
            ]
            if rows:
                session.execute(insert(RolloutTenantRow), rows)
            self._audit.append_in(
                session,
                actor,
                "rollout.create",
                rollout_id,
                {
                    "release_id": release_id,
                    "previous_release_id": previous_release_id,
                    "rollback_of": rollback_of,
                    "tenants": len(rows),
                    "waves": [{"name": w.name, "size": w.size} for w in waves],
                },
            )
            counts = {
                index: {**zero_counts(), TenantStatus.PENDING: wave.size}
                for index, wave in enumerate(waves)
            }
            return to_rollout(row, counts)

    def get(self, rollout_id: str, *, tenants: bool = True) -> Rollout:
        """The rollout with its waves' counts and, unless ``tenants=False``, every tenant's
        progress (wave by wave, in order). NotFoundError if it does not exist."""
        with self._db.session(write=False) as session:
            row = session.get(RolloutRow, rollout_id)
            if row is None:
                raise _not_found(rollout_id)
            if not tenants:
                return self._with_counts(session, row)
            loaded = [
                to_tenant(t)
                for t in session.execute(
                    select(*TENANT_COLUMNS)
                    .where(RolloutTenantRow.rollout_id == rollout_id)
                    .order_by(RolloutTenantRow.wave, RolloutTenantRow.position)
                )
            ]
        counts: dict[int, dict[TenantStatus, int]] = {}
        for tenant in loaded:
            wave = counts.get(tenant.wave)
            if wave is None:
                wave = counts[tenant.wave] = zero_counts()
            wave[tenant.status] += 1
        return to_rollout(row, counts, loaded)

    def list(self, limit: int = 50, state: RolloutState | None = None) -> builtins.list[Rollout]:
        """Rollouts newest first (without their tenants, with counts), optionally in one state."""
        query = (
            select(RolloutRow)
            .order_by(RolloutRow.created_at.desc(), RolloutRow.id.desc())
            .limit(max(0, limit))
        )
        if state is not None:
            query = query.where(RolloutRow.state == RolloutState(state).value)
        with self._db.session(write=False) as session:
            rows = list(session.scalars(query))
            counts = counts_by_wave(session, [row.id for row in rows])
        return [to_rollout(row, counts.get(row.id, {})) for row in rows]

    # -- state ---------------------------------------------------------------------------

    def transition(
        self,
        rollout_id: str,
        target: RolloutState,
        *,
        actor: str,
        reason: str | None = None,
    ) -> Rollout:
        """Move the rollout to ``target`` if its state machine allows it, else ConflictError
        (nothing changes). Already in ``target``: no change, no audit event (steps re-run).
        ``reason`` is kept as the halt reason when halting or failing; resuming clears it."""
        target = RolloutState(target)
        with self._db.session() as session:
            row = session.scalars(
                select(RolloutRow).where(RolloutRow.id == rollout_id).with_for_update()
            ).first()
            if row is None:
                raise _not_found(rollout_id)
            current = RolloutState(row.state)
            if current != target:
                if target not in ROLLOUT_TRANSITIONS[current]:
                    allowed = sorted(ROLLOUT_TRANSITIONS[current])
                    raise ConflictError(
                        f"rollout {rollout_id} is {current.value}; it cannot become {target.value}",
                        hint="from "
                        + current.value
                        + " it can become: "
                        + (", ".join(allowed) or "nothing (final)"),
                    )
                row.state = target.value
                if target in (RolloutState.HALTED, RolloutState.FAILED):
                    row.halt_reason = reason
                elif target == RolloutState.RUNNING:
                    row.halt_reason = None
                    row.runs = (row.runs or 0) + 1
                row.updated_by = actor
                row.updated_at = datetime.now(UTC)
                session.flush()
                details: dict[str, object] = {"from": current.value, "to": target.value}
                if reason is not None:
                    details["reason"] = reason
                self._audit.append_in(
                    session, actor, f"rollout.{target.value}", rollout_id, details
                )
            return self._with_counts(session, row)

    # -- tenants -------------------------------------------------------------------------

    def mark_tenant(
        self,
        rollout_id: str,
        tenant_id: str,
        status: TenantStatus,
        *,
        error: str | None = None,
    ) -> RolloutTenant:
        """Set a tenant's status if it moves forward (see ``TENANT_TRANSITIONS``); a repeated
        or backward mark changes nothing. Returns the tenant's progress as it now is, so a
        re-run step sees that the tenant already finished. Going to ``running`` counts an
        attempt and clears the error; ``failed`` keeps ``error``. NotFoundError if the tenant
        is not in the rollout.

        One conditional UPDATE: the database checks the current status, so concurrent marks
        stay monotonic without a read first (PostgreSQL re-checks the condition on the row
        it waited for)."""
        status = TenantStatus(status)
        keys = {"p_rollout": rollout_id, "p_tenant": tenant_id}
        params = {
            **keys,
            "p_now": datetime.now(UTC),
            "p_error": error if status is TenantStatus.FAILED else None,
        }

        def mark(session: Session) -> RolloutTenant:
            # Core, not ORM, execution: no session synchronization to evaluate (a third of the cost)
            row = session.connection().execute(MARK[status], params).first()
            if row is None:  # not there, or the mark would not move it forward
                row = session.connection().execute(TENANT, keys).first()
            if row is None:
                raise _tenant_not_found(rollout_id, tenant_id)
            return to_tenant(row)

        # the tenants of a wave mark themselves from many threads at once: commit them together
        return self._db.batched(mark)

    def add_operations(self, rollout_id: str, tenant_id: str, count: int = 1) -> int:
        """Count ``count`` stack operations started for the tenant; returns the new total."""
        if count < 0:
            raise ValidationError("an operation count cannot be negative")
        params = {"p_rollout": rollout_id, "p_tenant": tenant_id, "p_count": count}

        def add(session: Session) -> int:
            total = session.connection().execute(ADD_OPERATIONS, params).scalar()
            if total is None:
                raise _tenant_not_found(rollout_id, tenant_id)
            return int(total)

        return self._db.batched(add)

    def next_pending(self, rollout_id: str, wave_index: int, limit: int) -> builtins.list[str]:
        """Up to ``limit`` pending tenants of the wave, in the wave's order."""
        query = (
            select(RolloutTenantRow.tenant_id)
            .where(RolloutTenantRow.rollout_id == rollout_id)
            .where(RolloutTenantRow.wave == wave_index)
            .where(RolloutTenantRow.status == TenantStatus.PENDING.value)
            .order_by(RolloutTenantRow.position)
            .limit(max(0, limit))
        )
        with self._db.session(write=False) as session:
            return list(session.scalars(query))

    def state_of(self, rollout_id: str) -> RolloutState:
        """Only the rollout's state (one column): what a running wave checks often."""
        with self._db.session(write=False) as session:
            state = session.scalar(select(RolloutRow.state).where(RolloutRow.id == rollout_id))
        if state is None:
            raise _not_found(rollout_id)
        return RolloutState(state)

    def wave_tenants(self, rollout_id: str, wave_index: int) -> builtins.list[RolloutTenant]:
        """Every tenant of the wave with its progress, in the wave's order."""
        query = (
            select(*TENANT_COLUMNS)
            .where(RolloutTenantRow.rollout_id == rollout_id)
            .where(RolloutTenantRow.wave == wave_index)
            .order_by(RolloutTenantRow.position)
        )
        with self._db.session(write=False) as session:
            return [to_tenant(row) for row in session.execute(query)]

    def open_rollout(self) -> Rollout | None:
        """The rollout still pending, running or halted, if any (without its tenants)."""
        query = (
            select(RolloutRow)
            .where(RolloutRow.state.in_([s.value for s in OPEN_ROLLOUT_STATES]))
            .order_by(RolloutRow.created_at.desc())
            .limit(1)
        )
        with self._db.session(write=False) as session:
            row = session.scalars(query).first()
            return None if row is None else self._with_counts(session, row)

    def wave_counts(self, rollout_id: str, wave_index: int) -> dict[TenantStatus, int]:
        """The wave's tenants by status, every status present (zeros for an unknown wave)."""
        counts = zero_counts()
        query = (
            select(RolloutTenantRow.status, func.count())
            .where(RolloutTenantRow.rollout_id == rollout_id)
            .where(RolloutTenantRow.wave == wave_index)
            .group_by(RolloutTenantRow.status)
        )
        with self._db.session(write=False) as session:
            for status, count in session.execute(query):
                counts[TenantStatus(status)] = int(count)
        return counts

    def changed_tenants(self, rollout_id: str) -> builtins.list[str]:
        """Tenants the rollout may have changed (succeeded, failed, or still running: a
        deploy in flight may have changed stacks), in rollout order: what a rollback
        redeploys the previous release to."""
        return self.tenants_in(rollout_id, CHANGED_STATUSES)

    def tenants_in(self, rollout_id: str, statuses: Iterable[TenantStatus]) -> builtins.list[str]:
        """The rollout's tenants in one of ``statuses``, in rollout order."""
        values = sorted(TenantStatus(s).value for s in statuses)
        query = (
            select(RolloutTenantRow.tenant_id)
            .where(RolloutTenantRow.rollout_id == rollout_id)
            .where(RolloutTenantRow.status.in_(values))
            .order_by(RolloutTenantRow.wave, RolloutTenantRow.position)
        )
        with self._db.session(write=False) as session:
            return list(session.scalars(query))
