"""The JSON of the audit routes: events of the trail, and the result of verifying the chain.

Who calls it: ``stockade.api.audit_routes``; the CLI reads the same JSON (``cli.audit``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from stockade.store.audit import AuditEvent, AuditProblem, AuditVerification, ProblemKind


class AuditEventOut(BaseModel):
    """One event; ``hash = sha256(prev_hash + canonical JSON of the other fields)``."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )


class AuditList(BaseModel):
    """Events matching the filters, newest first."""

    items: list[AuditEventOut]
    count: int

    @classmethod
    def of(cls, events: list[AuditEvent]) -> AuditList:
        return cls(items=[AuditEventOut.of(e) for e in events], count=len(events))


class AuditProblemOut(BaseModel):
    seq: int = Field(description="where the chain breaks")
    kind: ProblemKind = Field(description="edited, missing or reordered")
    message: str

    @classmethod
    def of(cls, problem: AuditProblem) -> AuditProblemOut:
        return cls(seq=problem.seq, kind=problem.kind, message=problem.detail)


class AuditVerificationOut(BaseModel):
    """The whole chain walked: ``ok`` only if there is no problem."""

    ok: bool
    events: int = Field(description="events checked")
    problems: list[AuditProblemOut] = Field(description="every break, earliest first")
    first_broken_seq: int | None = Field(description="the first broken link; null if intact")

    @classmethod
    def of(cls, result: AuditVerification) -> AuditVerificationOut:
        return cls(
            ok=result.ok,
            events=result.checked,
            problems=[AuditProblemOut.of(p) for p in result.problems],
            first_broken_seq=result.first_broken_seq,
        )
