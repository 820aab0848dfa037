"""Template bodies by sha256: every CloudFormation template a release refers to, stored once.

A release names its templates by path and sha256 (``domain.release``); the bodies live here, so
a rollout deploys exactly the text that was applied, and a rollback redeploys an older release
even after its files changed on disk. A body is checked against its sha256 when stored and
when read back; a stored body never changes. Reads are cached in the repository object (bodies
are immutable, so the cache never goes stale).

Who calls it: the engine (``engine.apply`` stores a release's templates; ``engine.tenant_deploy``
and onboarding read them to deploy), tests.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from stockade.domain.errors import NotFoundError, StoreError
from stockade.store.db import Database
from stockade.store.models import TemplateRow

__all__ = ["StoredTemplate", "TemplateRepository"]

_CHUNK = 200


@dataclass(frozen=True)
class StoredTemplate:
    """A template body and what Stockade needs to know of it (fits ``TemplateFacts``)."""

    sha256: str
    body: str
    parameters: frozenset[str] = frozenset()
    #: logical id → resource type
    resources: Mapping[str, str] = field(default_factory=dict)


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


class TemplateRepository:
    """The ``templates`` table, with an in-memory cache of what was read."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, StoredTemplate] = {}
        self._lock = threading.Lock()

    def save_all(self, templates: Iterable[StoredTemplate]) -> int:
        """Store the templates not stored yet; returns how many were new. StoreError if a
        body does not match its sha256 (nothing is stored then)."""
        wanted = {t.sha256: t for t in templates}
        for template in wanted.values():
            if body_sha256(template.body) != template.sha256:
                raise StoreError(
                    f"template body does not match its sha256 {template.sha256[:12]}",
                    hint="reload the spec: the file changed while it was being read",
                )
        if not wanted:
            return 0
        try:
            with self._db.session() as session:
                known = set(
                    session.scalars(
                        select(TemplateRow.sha256).where(TemplateRow.sha256.in_(list(wanted)))
                    )
                )
                now = datetime.now(UTC)
                new = [t for sha, t in wanted.items() if sha not in known]
                session.add_all(
                    TemplateRow(
                        sha256=t.sha256,
                        body=t.body,
                        parameters=sorted(t.parameters),
                        resources=dict(t.resources),
                        created_at=now,
                    )
                    for t in new
                )
                return len(new)
        except IntegrityError:
            return self.save_all(wanted.values())  # stored by someone else meanwhile: recount

    def get(self, sha256: str) -> StoredTemplate:
        """The template with this sha256; NotFoundError if it was never stored."""
        found = self.get_many([sha256])
        if sha256 not in found:
            raise NotFoundError(
                f"template {sha256[:12]} is not stored",
                hint="the release was applied before templates were kept; apply the spec again",
            )
        return found[sha256]

    def get_many(self, shas: Iterable[str]) -> dict[str, StoredTemplate]:
        """The stored templates among ``shas`` (unknown ones left out)."""
        wanted = set(shas)
        with self._lock:
            found = {sha: self._cache[sha] for sha in wanted if sha in self._cache}
        missing = sorted(wanted - found.keys())
        for start in range(0, len(missing), _CHUNK):
            with self._db.session(write=False) as session:
                rows = session.scalars(
                    select(TemplateRow).where(
                        TemplateRow.sha256.in_(missing[start : start + _CHUNK])
                    )
                ).all()
                loaded = [_to_template(row) for row in rows]
            with self._lock:
                for template in loaded:
                    self._cache[template.sha256] = template
                    found[template.sha256] = template
        return found


def _to_template(row: TemplateRow) -> StoredTemplate:
    if body_sha256(row.body) != row.sha256:
        raise StoreError(
            f"stored template {row.sha256[:12]} does not match its sha256",
            hint="the database was altered; apply the spec again to store the template anew",
        )
    return StoredTemplate(
        sha256=row.sha256,
        body=row.body,
        parameters=frozenset(row.parameters or ()),
        resources=dict(row.resources or {}),
    )
