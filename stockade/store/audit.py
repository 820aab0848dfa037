"""The audit trail: an append-only, hash-chained log of every change and credential issued.

Who calls it: the repositories (``TenantRepository`` appends inside its own transactions through
``append_in``), the engine and API (``append`` for credentials issued, rollouts, tokens), and
the ``audit list`` / ``audit verify`` commands.

Each event's ``hash = sha256(prev_hash + canonical_json({seq, at, actor, action, subject,
details}))``; the first event's ``prev_hash`` is 64 zeros. ``seq`` is head + 1, assigned while
holding the chain lock (``pg_advisory_xact_lock`` on PostgreSQL, SQLite's single write lock
otherwise), so concurrent appends never fork the chain and a gap always means deletion. The head
(seq and hash of the newest event) is also kept in ``meta`` under ``audit.head``: the next
append continues from it, so deleting the newest events leaves a visible gap too.
"""

from __future__ import annotations

import builtins
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from stockade.domain.errors import ValidationError
from stockade.store.db import Database
from stockade.store.models import AuditEventRow, MetaRow

GENESIS_HASH = "0" * 64
HEAD_KEY = "audit.head"
#: pg_advisory_xact_lock key of the audit chain (any fixed bigint, distinct from other locks)
_CHAIN_LOCK_KEY = 0x5354_4B41_5544  # "STKAUD"

ProblemKind = Literal["edited", "missing", "reordered"]


@dataclass(frozen=True)
class AuditEvent:
    """One recorded event. ``details`` is JSON (normalized: tuples became lists, keys strings)."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditProblem(NamedTuple):
    seq: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class AuditVerification:
    """The result of walking the whole chain. ``ok`` is true only when ``problems`` is empty."""

    ok: bool
    checked: int
    problems: list[AuditProblem] = field(default_factory=list)
    first_broken_seq: int | None = None


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 kept, NaN/Infinity refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def format_at(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
) -> str:
    payload = canonical_json(
        {
            "seq": seq,
            "at": format_at(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
        }
    )
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def normalize_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Round-trip ``details`` through canonical JSON, so what is hashed is what is read back."""
    try:
        encoded = canonical_json(details or {})
        encoded.encode("utf-8")  # lone surrogates cannot be hashed or stored
        normalized = json.loads(encoded)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"audit details are not JSON: {exc}",
            hint="use strings, finite numbers, booleans, null, lists and string-keyed objects",
        ) from exc
    if not isinstance(normalized, dict):
        raise ValidationError("audit details must be a JSON object")
    return normalized


def _to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _rehash(event: AuditEvent, seq: int) -> str:
    """The hash ``event`` would have if it had been recorded at ``seq``."""
    return event_hash(
        prev_hash=event.prev_hash,
        seq=seq,
        at=event.at,
        actor=event.actor,
        action=event.action,
        subject=event.subject,
        details=event.details,
    )


class AuditLog:
    """Appends to, lists and verifies the audit chain of one ``Database``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(
        self, actor: str, action: str, subject: str, details: dict[str, Any] | None = None
    ) -> AuditEvent:
        """Append one event in its own transaction."""
        with self._db.session() as session:
            return self.append_in(session, actor, action, subject, details)

    def append_in(
        self,
        session: Session,
        actor: str,
        action: str,
        subject: str,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append inside the caller's transaction: the event commits or rolls back with it.

        ``session`` must be a write session (``Database.session()``): on SQLite that holds the
        write lock that keeps the chain linear. Call it last in the transaction: on PostgreSQL
        it takes the chain lock, held until commit, so do not wait for row locks after it.
        """
        for name, value, limit in (
            ("actor", actor, 200),
            ("action", action, 100),
            ("subject", subject, 200),
        ):
            if not value or len(value) > limit:
                raise ValidationError(f"audit {name} must be 1..{limit} characters, got {value!r}")
        clean = normalize_details(details)
        if self._db.backend == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
        head_seq, head_hash = self._head(session)
        seq = head_seq + 1
        at = datetime.now(UTC)
        digest = event_hash(
            prev_hash=head_hash,
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=clean,
        )
        row = AuditEventRow(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=clean,
            prev_hash=head_hash,
            hash=digest,
        )
        session.add(row)
        anchor = session.get(MetaRow, HEAD_KEY)
        if anchor is None:
            session.add(MetaRow(key=HEAD_KEY, value=f"{seq} {digest}"))
        else:
            anchor.value = f"{seq} {digest}"
        session.flush()
        return _to_event(row)

    def _head(self, session: Session) -> tuple[int, str]:
        """(seq, hash) the next event links to: the anchor, never behind the newest row."""
        newest = session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash)
            .order_by(AuditEventRow.seq.desc())
            .limit(1)
        ).first()
        anchor = _parse_anchor(session.get(MetaRow, HEAD_KEY))
        if anchor is not None and (newest is None or anchor[0] >= newest.seq):
            return anchor
        if newest is not None:
            return newest.seq, newest.hash
        return 0, GENESIS_HASH

    def list(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[AuditEvent]:
        """Events matching every given filter, newest first."""
        query = select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(max(0, limit))
        if actor is not None:
            query = query.where(AuditEventRow.actor == actor)
        if action is not None:
            query = query.where(AuditEventRow.action == action)
        if subject is not None:
            query = query.where(AuditEventRow.subject == subject)
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        with self._db.session(write=False) as session:
            return [_to_event(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._db.session(write=False) as session:
            return int(session.scalar(select(func.count()).select_from(AuditEventRow)) or 0)

    def verify(self) -> AuditVerification:
        """Walk the whole chain in seq order and report every break, earliest first.

        - ``missing``: a gap in seq (events deleted), including the newest ones (the head
          anchor is ahead of the last row);
        - ``reordered``: an intact event now sits at another seq than it was recorded at;
        - ``edited``: an event's content no longer matches its hash, or an event links to a
          hash its predecessor no longer has (the predecessor was rewritten and rehashed).
        """
        problems: list[AuditProblem] = []
        checked = 0
        prev_seq, prev_hash, prev_flagged = 0, GENESIS_HASH, False
        columns = (
            AuditEventRow.seq,
            AuditEventRow.at,
            AuditEventRow.actor,
            AuditEventRow.action,
            AuditEventRow.subject,
            AuditEventRow.details,
            AuditEventRow.prev_hash,
            AuditEventRow.hash,
        )
        with self._db.session(write=False) as session:
            # the head first: events appended while we walk are then simply not checked
            anchor = _parse_anchor(session.get(MetaRow, HEAD_KEY))
            result = session.execute(
                select(*columns).order_by(AuditEventRow.seq).execution_options(yield_per=1000)
            )
            for values in result:
                event = AuditEvent(*values)
                checked += 1
                gap = event.seq != prev_seq + 1
                if gap:
                    problems.append(_missing(prev_seq + 1, event.seq - 1))
                flagged = _rehash(event, event.seq) != event.hash
                if flagged:
                    problems.append(self._content_problem(session, event))
                elif not gap and not prev_flagged and event.prev_hash != prev_hash:
                    problems.append(
                        AuditProblem(
                            prev_seq,
                            "edited",
                            f"seq {event.seq} links to a hash seq {prev_seq} no longer has: "
                            f"seq {prev_seq} was rewritten",
                        )
                    )
                prev_seq, prev_hash, prev_flagged = event.seq, event.hash, flagged
        if anchor is not None:
            head_seq, head_hash = anchor
            if head_seq > prev_seq:
                problems.append(_missing(prev_seq + 1, head_seq))
            elif head_seq == prev_seq and head_hash != prev_hash and not prev_flagged:
                problems.append(
                    AuditProblem(
                        prev_seq,
                        "edited",
                        f"the newest event (seq {prev_seq}) is not the one the chain head recorded",
                    )
                )
        problems.sort(key=lambda p: p.seq)
        return AuditVerification(
            ok=not problems,
            checked=checked,
            problems=problems,
            first_broken_seq=problems[0].seq if problems else None,
        )

    @staticmethod
    def _content_problem(session: Session, event: AuditEvent) -> AuditProblem:
        """Classify an event whose content does not match its hash: moved intact, or edited.

        A moved event still hashes correctly at the seq it was recorded at; its neighbours in
        the chain (the event whose hash it links to, the event linking to its hash) say which.
        """
        candidates: set[int] = set()
        if event.prev_hash == GENESIS_HASH:
            candidates.add(1)
        before = session.scalars(
            select(AuditEventRow.seq).where(AuditEventRow.hash == event.prev_hash)
        ).all()
        after = session.scalars(
            select(AuditEventRow.seq).where(AuditEventRow.prev_hash == event.hash)
        ).all()
        candidates.update(seq + 1 for seq in before)
        candidates.update(seq - 1 for seq in after)
        candidates.discard(event.seq)
        for seq in sorted(candidates):
            if seq >= 1 and _rehash(event, seq) == event.hash:
                return AuditProblem(
                    event.seq,
                    "reordered",
                    f"the event at seq {event.seq} was recorded as seq {seq}",
                )
        return AuditProblem(
            event.seq, "edited", f"the event at seq {event.seq} does not match its hash"
        )


def _missing(first: int, last: int) -> AuditProblem:
    if first == last:
        return AuditProblem(first, "missing", f"the event at seq {first} is missing")
    return AuditProblem(first, "missing", f"the events at seq {first}..{last} are missing")


def _parse_anchor(row: MetaRow | None) -> tuple[int, str] | None:
    if row is None:
        return None
    seq, _, digest = row.value.partition(" ")
    if not seq.isdigit() or len(digest) != 64:
        return None
    return int(seq), digest


__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "AuditLog",
    "AuditProblem",
    "AuditVerification",
    "canonical_json",
    "event_hash",
]
