"""Guardrails in the engine: gate plan and apply on the guardrail tests, reconcile the SCPs.

``GuardrailService.check`` runs the spec's guardrail tests (``policy.guardrails``) and raises
``GuardrailTestsFailed`` naming each failure: ``plan`` and ``apply`` call it first, so a spec whose
guardrails do not hold never reaches the fleet. ``plan`` reads the organization's SCPs and says
what reconciling would do (``domain.guardrails.plan_scps``); ``reconcile`` does it, action by
action, each idempotent (create looks up by name first; attach/detach of what already is, is a
no-op), so an interrupted apply is finished by the next one. Every change is an audit event.

The policy text sent to AWS is the spec file's JSON, minified (whitespace outside strings
removed: what AWS counts against the size limit).

Who calls it: ``engine.planning`` (plan), ``engine.rollouts`` (apply), the API (explain).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stockade.cloud.ports import CloudPort
from stockade.domain.errors import GuardrailTestsFailed
from stockade.domain.guardrails import DesiredScp, ScpAction, ScpActionKind, plan_scps
from stockade.policy.guardrails import GuardrailResult, run_guardrail_tests
from stockade.spec.loader import LoadedSpec

__all__ = ["GuardrailPlan", "GuardrailService", "desired_scps"]

#: failures spelled out in the error's message; the rest are counted
_SHOWN = 3


@dataclass(frozen=True)
class GuardrailPlan:
    """The guardrail side of a plan: test results and the SCP reconcile actions."""

    tests: tuple[GuardrailResult, ...]
    scp_actions: tuple[ScpAction, ...]
    #: the SCPs the actions were planned for (what create and update send)
    desired: tuple[DesiredScp, ...] = ()


def desired_scps(loaded: LoadedSpec) -> tuple[DesiredScp, ...]:
    """The spec's SCPs with their minified policy text."""
    return tuple(
        DesiredScp(
            name=scp.name,
            description=scp.description,
            content=json.dumps(
                json.loads(loaded.policies[scp.file]), separators=(",", ":"), ensure_ascii=False
            ),
            targets=scp.parsed_targets(),
        )
        for scp in loaded.spec.guardrails.scps
    )


class GuardrailService:
    def __init__(
        self, *, cloud: CloudPort, audit: Callable[[str, str, str, dict[str, Any]], object]
    ) -> None:
        self._cloud = cloud
        #: (actor, action, subject, details) -> appended to the audit trail
        self._audit = audit

    def check(self, loaded: LoadedSpec) -> tuple[GuardrailResult, ...]:
        """Run the guardrail tests; raise ``GuardrailTestsFailed`` if any fails."""
        results = tuple(
            run_guardrail_tests(
                loaded.spec.guardrails,
                loaded.policies,
                tenant_ou=loaded.spec.organization.tenant_ou,
            )
        )
        failed = [r for r in results if not r.passed]
        if failed:
            shown = "; ".join(r.explain() for r in failed[:_SHOWN])
            more = f"; and {len(failed) - _SHOWN} more" if len(failed) > _SHOWN else ""
            raise GuardrailTestsFailed(
                f"{len(failed)} of {len(results)} guardrail tests fail: {shown}{more}",
                hint="fix the SCPs or the tests in the spec; `stockade guardrails test` "
                "explains each failure",
            )
        return results

    def plan(self, loaded: LoadedSpec) -> GuardrailPlan:
        """Tests (which must pass) and what reconciling the SCPs would change."""
        tests = self.check(loaded)
        desired = desired_scps(loaded)
        observed = self._cloud.organizations().list_scps()
        return GuardrailPlan(
            tests=tests, scp_actions=tuple(plan_scps(desired, observed)), desired=desired
        )

    def reconcile(
        self, loaded: LoadedSpec, *, actor: str, planned: GuardrailPlan | None = None
    ) -> tuple[ScpAction, ...]:
        """Make the organization's Stockade SCPs match the spec; the actions taken.
        ``planned``: the plan just made for this spec (apply passes it, so the tests are not
        run and the organization's SCPs not read a second time); None plans first."""
        if planned is None:
            planned = self.plan(loaded)
        actions = planned.scp_actions
        desired = {d.name: d for d in planned.desired}
        organizations = self._cloud.organizations()
        if any(a.kind is ScpActionKind.ATTACH for a in actions):
            organizations.enable_scps()
        #: ids of the policies created here (the plan carries the ids of existing ones)
        ids: dict[str, str] = {}
        for action in actions:
            want = desired.get(action.policy)
            policy_id = action.policy_id or ids.get(action.policy)
            if action.kind is ScpActionKind.CREATE and want is not None:
                ids[want.name] = organizations.create_scp(
                    name=want.name, description=want.description, content=want.content
                )
            elif action.kind is ScpActionKind.UPDATE and want is not None and policy_id:
                organizations.update_scp(
                    policy_id=policy_id, content=want.content, description=want.description
                )
            elif action.kind is ScpActionKind.ATTACH and action.target and policy_id:
                organizations.attach_scp(policy_id=policy_id, target=action.target)
            elif action.kind is ScpActionKind.DETACH and action.target and policy_id:
                organizations.detach_scp(policy_id=policy_id, target=action.target)
            elif action.kind is ScpActionKind.DELETE and policy_id:
                organizations.delete_scp(policy_id=policy_id)
            self._audit(
                actor,
                f"scp.{action.kind.value}",
                action.policy,
                {
                    "policy_id": ids.get(action.policy) or policy_id,
                    "target": str(action.target) if action.target else None,
                    "reason": action.reason,
                },
            )
        return actions
