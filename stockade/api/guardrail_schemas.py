"""The JSON of guardrails in plans and applies: guardrail test results and SCP reconcile actions.

Who calls it: ``api.schemas`` (``PlanOut``), ``api.rollout_schemas`` (``ApplyOut``); the CLI
reads the same JSON (``cli.plan``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from stockade.domain.guardrails import ScpAction

if TYPE_CHECKING:
    from stockade.engine.guardrails import GuardrailPlan


class ScpActionOut(BaseModel):
    action: str = Field(description="create, update, attach, detach or delete")
    policy: str = Field(description="the SCP's name")
    target: str | None = Field(
        default=None, description="root, ou:PATH or account:ID (attach and detach)"
    )
    reason: str

    @classmethod
    def of(cls, action: ScpAction) -> ScpActionOut:
        return cls(
            action=action.kind.value,
            policy=action.policy,
            target=str(action.target) if action.target else None,
            reason=action.reason,
        )

    @classmethod
    def all(cls, actions: Iterable[ScpAction]) -> list[ScpActionOut]:
        return [cls.of(a) for a in actions]


class GuardrailsOut(BaseModel):
    """Guardrail tests (all passed, or the plan would have been refused) and SCP changes."""

    tests_passed: int
    scp_actions: list[ScpActionOut]

    @classmethod
    def of(cls, plan: GuardrailPlan | None) -> GuardrailsOut | None:
        if plan is None:
            return None
        return cls(
            tests_passed=sum(1 for t in plan.tests if t.passed),
            scp_actions=ScpActionOut.all(plan.scp_actions),
        )
