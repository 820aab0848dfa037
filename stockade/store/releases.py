"""Releases: store, load and list immutable, content-hashed releases (``domain.release.Release``).

Who calls it: the engine (saving the release a spec describes when it is applied, loading the
current and pinned releases to plan and roll out), the API and CLI (listing and showing
releases). A release is stored as its canonical JSON (``Release.content_json()``), the text its
id is the sha256 of; loading it builds the ``Release`` again with the stored id, so a release
whose stored content was altered fails to load (``StoreError``) instead of being deployed.

"Current" is the release applied last: ``save`` makes a new release current, ``mark_applied``
makes an already stored one current again (re-applying an earlier spec, or after a rollback),
and ``latest`` returns it. Both append an audit event in the same transaction.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pydantic
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from stockade.domain.errors import NotFoundError, StoreError, ValidationError
from stockade.domain.release import Release
from stockade.store.audit import AuditLog
from stockade.store.db import Database
from stockade.store.models import ReleaseRow

__all__ = ["ReleaseRepository", "ReleaseSummary"]

#: ``by_ids`` asks for this many ids per query (stays under every backend's parameter limit)
_CHUNK = 500


@dataclass(frozen=True)
class ReleaseSummary:
    """What a release list shows, without loading every release's content."""

    release_id: str
    created_at: datetime
    created_by: str
    applied_at: datetime
    #: service name → version
    services: dict[str, str]
    #: baseline stack name → version
    baseline: dict[str, str]
    tiers: tuple[str, ...]

    @property
    def short_id(self) -> str:
        return self.release_id[:12]


def _summary_of(release: Release) -> dict[str, Any]:
    return {
        "services": {name: stack.version for name, stack in sorted(release.services.items())},
        "baseline": {stack.name: stack.version for stack in release.baseline},
        "tiers": sorted(release.tiers),
    }


def _to_summary(row: ReleaseRow) -> ReleaseSummary:
    summary = row.summary or {}
    return ReleaseSummary(
        release_id=row.release_id,
        created_at=row.created_at,
        created_by=row.created_by,
        applied_at=row.applied_at,
        services=dict(summary.get("services", {})),
        baseline=dict(summary.get("baseline", {})),
        tiers=tuple(summary.get("tiers", ())),
    )


def load_release(release_id: str, content: str) -> Release:
    """The release stored as ``content`` under ``release_id``; ``StoreError`` if the content
    no longer hashes to the id (or is not a release at all)."""
    try:
        data = json.loads(content)
        if not isinstance(data, dict):
            raise TypeError("the stored content is not a JSON object")
        data["release_id"] = release_id
        return Release.model_validate(data)
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        if isinstance(exc, pydantic.ValidationError) and exc.errors():
            detail = str(exc.errors()[0].get("msg", exc))
        else:
            detail = str(exc)
        raise StoreError(
            f"stored release {release_id[:12]} does not match its id or is not a release: {detail}",
            hint="the releases table was edited; restore it from a backup, or apply the "
            "spec again to store a correct release",
        ) from exc


def _not_found(release_id: str) -> NotFoundError:
    return NotFoundError(
        f"release {release_id[:12]} does not exist",
        hint="list releases to find its id; a release is stored when a spec is applied",
    )


class ReleaseRepository:
    """The ``releases`` table. Releases never change once stored."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit
        # releases never change once stored: loaded ones are kept (per repository object)
        self._loaded: dict[str, Release] = {}

    def save(self, release: Release, *, actor: str) -> bool:
        """Store ``release`` and make it current. Idempotent: a release already stored (same
        id, hence same content) is left as it is and False is returned; True when stored."""
        now = datetime.now(UTC)
        try:
            with self._db.session() as session:
                if session.get(ReleaseRow, release.release_id) is not None:
                    return False
                summary = _summary_of(release)
                session.add(
                    ReleaseRow(
                        release_id=release.release_id,
                        content=release.content_json(),
                        summary=summary,
                        created_at=now,
                        created_by=actor,
                        applied_at=now,
                    )
                )
                session.flush()  # a concurrent save of the same release fails here
                self._audit.append_in(
                    session,
                    actor,
                    "release.save",
                    release.release_id,
                    {"services": summary["services"], "tiers": summary["tiers"]},
                )
                return True
        except IntegrityError:
            with self._db.session(write=False) as session:
                if session.get(ReleaseRow, release.release_id) is not None:
                    return False  # saved by someone else at the same time
            raise

    def mark_applied(self, release_id: str, *, actor: str) -> None:
        """Make a stored release the current one again (``latest`` returns it)."""
        with self._db.session() as session:
            row = session.scalars(
                select(ReleaseRow).where(ReleaseRow.release_id == release_id).with_for_update()
            ).first()
            if row is None:
                raise _not_found(release_id)
            row.applied_at = datetime.now(UTC)
            self._audit.append_in(session, actor, "release.apply", release_id, {})

    def get(self, release_id: str) -> Release:
        """The release with this full id, or NotFoundError; StoreError if it was altered."""
        cached = self._loaded.get(release_id)
        if cached is not None:
            return cached
        with self._db.session(write=False) as session:
            row = session.execute(
                select(ReleaseRow.release_id, ReleaseRow.content).where(
                    ReleaseRow.release_id == release_id
                )
            ).first()
        if row is None:
            raise _not_found(release_id)
        release = load_release(row.release_id, row.content)
        self._loaded[release_id] = release
        return release

    def resolve(self, prefix: str) -> str:
        """The full id of the one release whose id starts with ``prefix`` (at least 6 hex
        digits, as users type short ids); NotFoundError if none, ValidationError if several."""
        prefix = prefix.strip().lower()
        if len(prefix) < 6 or any(c not in "0123456789abcdef" for c in prefix):
            raise ValidationError(
                f"{prefix!r} is not a release id", hint="give at least 6 hex digits of the id"
            )
        with self._db.session(write=False) as session:
            ids = session.scalars(
                select(ReleaseRow.release_id)
                .where(ReleaseRow.release_id.startswith(prefix, autoescape=True))
                .limit(2)
            ).all()
        if not ids:
            raise _not_found(prefix)
        if len(ids) > 1:
            raise ValidationError(
                f"release id {prefix!r} is ambiguous", hint="give more digits of the id"
            )
        return ids[0]

    def latest(self) -> Release | None:
        """The current release (the one applied last), or None before any spec was applied."""
        query = (
            select(ReleaseRow.release_id, ReleaseRow.content)
            .order_by(ReleaseRow.applied_at.desc(), ReleaseRow.created_at.desc())
            .limit(1)
        )
        with self._db.session(write=False) as session:
            row = session.execute(query).first()
        return None if row is None else load_release(row.release_id, row.content)

    def list(self, limit: int = 50) -> builtins.list[ReleaseSummary]:
        """Releases, most recently applied first."""
        query = (
            select(ReleaseRow)
            .order_by(ReleaseRow.applied_at.desc(), ReleaseRow.created_at.desc())
            .limit(max(0, limit))
        )
        with self._db.session(write=False) as session:
            return [_to_summary(row) for row in session.scalars(query)]

    def by_ids(self, ids: Iterable[str]) -> dict[str, Release]:
        """The stored releases among ``ids`` (for resolving pins); unknown ids are left out,
        so ``domain.release.check_overrides`` can report them."""
        wanted = sorted(set(ids))
        found: dict[str, Release] = {}
        with self._db.session(write=False) as session:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                rows = session.execute(
                    select(ReleaseRow.release_id, ReleaseRow.content).where(
                        ReleaseRow.release_id.in_(chunk)
                    )
                ).all()
                for row in rows:
                    found[row.release_id] = load_release(row.release_id, row.content)
        return found
