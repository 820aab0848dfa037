"""Stacks per tenant: what Stockade last deployed (recorded) and what it last read (observed).

Who calls it: the engine's rollout steps (``record`` after a stack deploy, ``forget`` after a
stack delete), the reconcile/scan workflows (``save_observed`` after reading a tenant's stacks
and their tags from its account), and planning (``recorded_all`` and ``observed_all``: the whole
fleet in two queries, so ``stockade plan`` never calls AWS for 6,000 accounts).

- ``stack_deployments``: one row per (tenant, stack) Stockade deployed, read back as
  ``domain.stacks.RecordedStack``; ``record`` is an upsert.
- ``stack_observations`` + ``observed_stacks``: per tenant, the time of the last full read and
  the stacks found then (``domain.stacks.DeployedStack``). A tenant never read is absent from
  ``observed_all``; a tenant read with no stacks is present with none, so the two differ.

Recording is bookkeeping of work the engine did (the rollout's own events are audited), so it
appends no audit events. Rows go with their tenant (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Text, bindparam, cast, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stockade.domain.errors import NotFoundError, ValidationError
from stockade.domain.stacks import DeployedStack, RecordedStack
from stockade.store.db import Database
from stockade.store.models import ObservedStackRow, StackDeploymentRow, StackObservationRow

__all__ = ["Deployment", "DeploymentRepository", "Observation"]


@dataclass(frozen=True)
class Deployment:
    """A recorded stack with the bookkeeping around it."""

    tenant_id: str
    recorded: RecordedStack
    #: what the engine said when recording, e.g. the final CloudFormation stack status
    status: str
    stack_id: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Observation:
    """One tenant's stacks as last read from its account."""

    tenant_id: str
    #: when the last full read was saved
    observed_at: datetime
    stacks: tuple[DeployedStack, ...]


def _not_found(tenant_id: str) -> NotFoundError:
    return NotFoundError(
        f"tenant {tenant_id!r} does not exist",
        hint="list tenants with `stockade tenant list`",
    )


class _Interner:
    """Shares equal strings and parameter mappings across the many rows of a fleet read (a
    fleet repeats the same versions and hashes 120,000 times: one object each is enough)."""

    def __init__(self) -> None:
        self.strings: dict[str | None, str | None] = {}
        self._params: dict[str, Mapping[str, str]] = {}

    def params(self, text: str | None) -> Mapping[str, str] | None:
        if text is None or text == "null":
            return None
        found = self._params.get(text)
        if found is None:
            found = self._params[text] = MappingProxyType(json.loads(text))
        return found


_RECORDED_COLUMNS = (
    StackDeploymentRow.tenant_id,
    StackDeploymentRow.stack_name,
    StackDeploymentRow.version,
    StackDeploymentRow.template_sha256,
    StackDeploymentRow.params_sha256,
    StackDeploymentRow.release_id,
    # as text, so equal parameter sets are decoded once (and PostgreSQL's driver does not)
    cast(StackDeploymentRow.parameters, Text),
)
_OBSERVED_COLUMNS = (
    ObservedStackRow.tenant_id,
    ObservedStackRow.stack_name,
    ObservedStackRow.status,
    ObservedStackRow.tenant,
    ObservedStackRow.service,
    ObservedStackRow.version,
    ObservedStackRow.template_sha256,
    ObservedStackRow.params_sha256,
    ObservedStackRow.release_id,
)


# The two loops below build the domain values positionally (a third faster than by keyword at
# 120,000 rows); the round-trip tests compare them with values built by keyword.


def _read_recorded(rows: Iterable[Any]) -> dict[str, list[RecordedStack]]:
    """Rows of ``_RECORDED_COLUMNS`` grouped by tenant. A record names no tenant, so the
    tenants with the same tier and overrides share one ``RecordedStack`` per stack."""
    intern = _Interner()
    s, params = intern.strings.setdefault, intern.params
    memo: dict[tuple[Any, ...], RecordedStack] = {}
    result: dict[str, list[RecordedStack]] = {}
    for row in rows:
        key = tuple(row[1:])
        stack = memo.get(key)
        if stack is None:
            name, version, template, params_hash, release, parameters = key
            stack = memo[key] = RecordedStack(
                name,
                s(version, version),
                s(template, template),
                s(params_hash, params_hash),
                s(release, release),
                params(parameters),
            )
        stacks = result.get(row[0])
        if stacks is None:
            stacks = result[row[0]] = []
        stacks.append(stack)
    return result


def _read_observed(rows: Iterable[Any]) -> dict[str, list[DeployedStack]]:
    """Rows of ``_OBSERVED_COLUMNS`` grouped by tenant (equal strings shared)."""
    s = _Interner().strings.setdefault
    result: dict[str, list[DeployedStack]] = {}
    for tenant_id, name, status, tenant, service, version, template, params, release in rows:
        stacks = result.get(tenant_id)
        if stacks is None:
            stacks = result[tenant_id] = []
        stacks.append(
            DeployedStack(
                name,
                s(status, status) or "",
                s(tenant, tenant),
                s(service, service),
                s(version, version),
                s(template, template),
                s(params, params),
                s(release, release),
            )
        )
    return result


def _upsert(dialect: Any, row: Any, keys: tuple[Any, ...]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE every other column, values given at execution."""
    statement = dialect.insert(row)
    others = [c.name for c in row.__table__.columns if c.name not in {k.name for k in keys}]
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in others}
    )


def _observed_values(tenant_id: str, stack: DeployedStack, at: datetime) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "stack_name": stack.stack_name,
        "status": stack.status,
        "tenant": stack.tenant,
        "service": stack.service,
        "version": stack.version,
        "template_sha256": stack.template_sha256,
        "params_sha256": stack.params_sha256,
        "release_id": stack.release_id,
        "observed_at": at,
    }


class DeploymentRepository:
    """The ``stack_deployments``, ``stack_observations`` and ``observed_stacks`` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._dialect = postgresql if db.backend == "postgresql" else sqlite
        # built once: a rollout records thousands of stacks (values go in as parameters)
        self._record_upsert = _upsert(
            self._dialect,
            StackDeploymentRow,
            (StackDeploymentRow.tenant_id, StackDeploymentRow.stack_name),
        )
        self._observe_upsert = _upsert(
            self._dialect,
            ObservedStackRow,
            (ObservedStackRow.tenant_id, ObservedStackRow.stack_name),
        )
        self._has_snapshot = select(StackObservationRow.tenant_id).where(
            StackObservationRow.tenant_id == bindparam("p_tenant")
        )

    # -- recorded ------------------------------------------------------------------------

    def record(
        self,
        tenant_id: str,
        recorded: RecordedStack,
        *,
        status: str,
        stack_id: str | None = None,
        observed: DeployedStack | None = None,
    ) -> None:
        """Record (insert or replace) what was deployed for ``recorded.stack_name``.

        ``observed``: the stack as the deploy left it; it then also replaces that stack in the
        tenant's observed snapshot, in the same transaction (if the tenant has a snapshot).
        NotFoundError for an unknown tenant."""
        now = datetime.now(UTC)
        values = {
            "tenant_id": tenant_id,
            "stack_name": recorded.stack_name,
            "status": status,
            "stack_id": stack_id,
            "version": recorded.version,
            "template_sha256": recorded.template_sha256,
            "params_sha256": recorded.params_sha256,
            "release_id": recorded.release_id,
            "parameters": None if recorded.parameters is None else dict(recorded.parameters),
            "updated_at": now,
        }

        def record(session: Session) -> None:
            session.connection().execute(self._record_upsert, values)
            if observed is not None:
                self._observe_in(session, tenant_id, observed, now)

        try:
            # deploys record from many threads at once (rollouts): commit them together
            self._db.batched(record)
        except IntegrityError as exc:
            raise _not_found(tenant_id) from exc

    def recorded_for(self, tenant_id: str) -> list[RecordedStack]:
        """The stacks recorded for one tenant, by stack name."""
        query = (
            select(*_RECORDED_COLUMNS)
            .where(StackDeploymentRow.tenant_id == tenant_id)
            .order_by(StackDeploymentRow.stack_name)
        )
        with self._db.session(write=False) as session:
            return _read_recorded(session.connection().execute(query).all()).get(tenant_id, [])

    def deployments_for(self, tenant_id: str) -> list[Deployment]:
        """The stacks recorded for one tenant with their status and stack id, by stack name."""
        query = (
            select(StackDeploymentRow)
            .where(StackDeploymentRow.tenant_id == tenant_id)
            .order_by(StackDeploymentRow.stack_name)
        )
        with self._db.session(write=False) as session:
            return [
                Deployment(
                    tenant_id=row.tenant_id,
                    recorded=RecordedStack(
                        stack_name=row.stack_name,
                        version=row.version,
                        template_sha256=row.template_sha256,
                        params_sha256=row.params_sha256,
                        release_id=row.release_id,
                        parameters=None if row.parameters is None else dict(row.parameters),
                    ),
                    status=row.status,
                    stack_id=row.stack_id,
                    updated_at=row.updated_at,
                )
                for row in session.scalars(query)
            ]

    def recorded_all(self) -> dict[str, list[RecordedStack]]:
        """Every tenant's recorded stacks, in one query. Tenants with none are absent. Equal
        parameter sets are shared read-only mappings: never mutate them."""
        query = select(*_RECORDED_COLUMNS).order_by(
            StackDeploymentRow.tenant_id, StackDeploymentRow.stack_name
        )
        with self._db.session(write=False) as session:
            return _read_recorded(session.connection().execute(query).all())

    def forget(self, tenant_id: str, stack_name: str) -> bool:
        """Forget a stack Stockade deleted: its record and its row in the observed snapshot.
        Returns whether a record existed."""
        with self._db.session() as session:
            gone = session.execute(
                delete(StackDeploymentRow)
                .where(StackDeploymentRow.tenant_id == tenant_id)
                .where(StackDeploymentRow.stack_name == stack_name)
                .returning(StackDeploymentRow.stack_name)
            ).all()
            session.execute(
                delete(ObservedStackRow)
                .where(ObservedStackRow.tenant_id == tenant_id)
                .where(ObservedStackRow.stack_name == stack_name)
            )
            return bool(gone)

    # -- observed ------------------------------------------------------------------------

    def save_observed(
        self,
        tenant_id: str,
        stacks: Iterable[DeployedStack],
        *,
        observed_at: datetime | None = None,
    ) -> None:
        """Replace the tenant's observed snapshot with ``stacks`` (all its stacks as just read
        from the account; an empty list means it has none). NotFoundError for an unknown
        tenant, ValidationError if a stack name appears twice."""
        at = observed_at or datetime.now(UTC)
        stacks = list(stacks)
        names = [stack.stack_name for stack in stacks]
        if len(set(names)) != len(names):
            duplicate = next(n for n in names if names.count(n) > 1)
            raise ValidationError(f"stack {duplicate!r} appears twice in the observed stacks")
        upsert = self._dialect.insert(StackObservationRow).values(
            tenant_id=tenant_id, observed_at=at
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=[StackObservationRow.tenant_id],
            set_={"observed_at": upsert.excluded.observed_at},
        )
        try:
            with self._db.session() as session:
                session.execute(upsert)
                session.execute(
                    delete(ObservedStackRow).where(ObservedStackRow.tenant_id == tenant_id)
                )
                if stacks:
                    session.execute(
                        insert(ObservedStackRow),
                        [_observed_values(tenant_id, stack, at) for stack in stacks],
                    )
        except IntegrityError as exc:
            raise _not_found(tenant_id) from exc

    def observe_stack(self, tenant_id: str, stack: DeployedStack) -> bool:
        """Replace one stack in the tenant's observed snapshot (after deploying it). Does
        nothing and returns False if the tenant has no snapshot yet: one stack is not a full
        read of the account."""
        with self._db.session() as session:
            return self._observe_in(session, tenant_id, stack, datetime.now(UTC))

    def _observe_in(
        self, session: Session, tenant_id: str, stack: DeployedStack, at: datetime
    ) -> bool:
        connection = session.connection()
        if connection.execute(self._has_snapshot, {"p_tenant": tenant_id}).first() is None:
            return False
        connection.execute(self._observe_upsert, _observed_values(tenant_id, stack, at))
        return True

    def observed_for(self, tenant_id: str) -> Observation | None:
        """The tenant's observed snapshot, or None if it was never read."""
        with self._db.session(write=False) as session:
            head = session.get(StackObservationRow, tenant_id)
            if head is None:
                return None
            stacks = _read_observed(
                session.connection().execute(
                    select(*_OBSERVED_COLUMNS)
                    .where(ObservedStackRow.tenant_id == tenant_id)
                    .order_by(ObservedStackRow.stack_name)
                )
            )
        return Observation(tenant_id, head.observed_at, tuple(stacks.get(tenant_id, ())))

    def observed_all(self) -> dict[str, Observation]:
        """Every observed tenant's snapshot, in two queries; tenants never read are absent."""
        with self._db.session(write=False) as session:
            connection = session.connection()
            heads = connection.execute(
                select(StackObservationRow.tenant_id, StackObservationRow.observed_at)
            ).all()
            stacks = _read_observed(
                connection.execute(
                    select(*_OBSERVED_COLUMNS).order_by(
                        ObservedStackRow.tenant_id, ObservedStackRow.stack_name
                    )
                ).all()
            )
        return {
            tenant_id: Observation(tenant_id, at, tuple(stacks.get(tenant_id, ())))
            for tenant_id, at in heads
        }
