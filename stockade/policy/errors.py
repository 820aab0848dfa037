"""Errors of the policy package: a bad policy, an oversized policy, a malformed simulate request.

Every error names *where* the problem is (which policy of a request, which statement by index and
Sid, which field) through a ``Location``, so a user can find the line to fix in one read.

Who calls it: ``policy.parse`` and ``policy.size`` raise them; ``policy.simulate`` turns them into
per-line error objects; ``policy.lint`` turns them into findings; the CLI prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from stockade.domain.errors import ValidationError

_POLICY_HINT = "fix the policy document; `stockade policy lint FILE` lists every problem"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a request or policy a problem is; every part is optional."""

    policy: str | None = None
    statement: int | None = None
    sid: str | None = None
    field: str | None = None

    def describe(self) -> str:
        parts: list[str] = []
        if self.policy:
            parts.append(self.policy)
        if self.statement is not None:
            text = f"statement {self.statement}"
            if self.sid:
                text += f" (Sid {self.sid!r})"
            parts.append(text)
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


class PolicyError(ValidationError):
    """A policy document is not valid IAM policy grammar (or not JSON at all)."""

    code = "STK-1150"

    def __init__(self, problem: str, *, where: Location | None = None, hint: str = "") -> None:
        self.problem = problem
        self.where = where or Location()
        described = self.where.describe()
        super().__init__(
            f"{described}: {problem}" if described else problem, hint=hint or _POLICY_HINT
        )

    def in_policy(self, label: str) -> PolicyError:
        """The same error, located in the policy ``label`` (e.g. ``identity_policies[1]``)."""
        where = replace(
            self.where, policy=f"{label} {self.where.policy}" if self.where.policy else label
        )
        return type(self)(self.problem, where=where, hint=self.hint)


class PolicySizeError(PolicyError):
    """An SCP or RCP is larger than AWS Organizations accepts, or too many are attached."""

    code = "STK-1152"


class SimulationInputError(ValidationError):
    """A ``policy simulate`` input line is not a well-formed request (not a policy problem)."""

    code = "STK-1151"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(
            message,
            hint=hint
            or 'each line is {"id", "request": {"principal", "action", "resource", ...}, '
            '"identity_policies": [...], ...}',
        )
