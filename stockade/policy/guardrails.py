"""Guardrail tests: does the spec's SCP chain give each test request the decision it expects?

A guardrail test (``domain.guardrails.GuardrailTest``) is a request in a tenant account — by
default a principal with ``Allow *`` on ``*``, so the SCPs alone decide — and an expected
decision (``allow``, ``deny`` meaning either kind of deny, ``explicit_deny`` or
``implicit_deny``). ``scp_chain`` builds the SCP levels a tenant account in an OU gets from the
spec: the root, every OU on the path, the account; AWS's ``FullAWSAccess`` is attached at every
level (as AWS does when SCPs are enabled, and as Stockade's reconcile never detaches it) plus the
spec's SCPs for that target. ``run_guardrail_tests`` evaluates every test with the evaluator and
says which failed, with the statements that decided.

Who calls it: the CLI (``stockade guardrails test``), the engine (``plan``/``apply`` refuse a spec
whose tests fail), the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stockade.domain.errors import ValidationError
from stockade.domain.guardrails import Guardrails, GuardrailTest, ScpTarget, TargetKind
from stockade.policy.evaluate import PolicySet, evaluate
from stockade.policy.model import Decision, DecisionKind, Explanation, Policy, PolicyType
from stockade.policy.parse import PolicyCache
from stockade.policy.request import make_request, principal_from_arn

__all__ = [
    "FULL_AWS_ACCESS",
    "GUARDRAIL_ACCOUNT",
    "AccountCall",
    "GuardrailResult",
    "evaluate_in_account",
    "run_guardrail_tests",
    "scp_chain",
]

#: AWS's FullAWSAccess SCP, attached to every root, OU and account by default
FULL_AWS_ACCESS = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)
#: the account id guardrail tests run in (``{account}`` in a test's principal)
GUARDRAIL_ACCOUNT = "210987654321"


@dataclass(frozen=True)
class GuardrailResult:
    name: str
    expect: str
    decision: Decision
    passed: bool
    principal: str
    action: str
    resource: str
    #: the names of the SCPs at each level, as the explanation's level and policy index count
    scp_names: tuple[tuple[str, ...], ...] = ()

    def _policy_name(self, explanation: Explanation) -> str:
        level, index = explanation.level, explanation.policy_index
        if explanation.policy_type is PolicyType.SCP and level is not None and index is not None:
            return self.scp_names[level][index]
        return explanation.policy_id or ""

    def explain(self) -> str:
        """One line: what was expected, what the guardrails said, and which statements decided."""
        deciding = "; ".join(
            ", ".join(
                part
                for part in (
                    e.policy_type.value + (f" level {e.level}" if e.level is not None else ""),
                    self._policy_name(e),
                    f"statement {e.statement_index}" if e.statement_index is not None else "",
                    f"Sid {e.sid}" if e.sid else "",
                    e.reason,
                )
                if part
            )
            for e in self.decision.explanation
        )
        return (
            f"{self.name}: expected {self.expect}, got {self.decision.kind.value} for "
            f"{self.action} on {self.resource}" + (f" ({deciding})" if deciding else "")
        )


def _matches(expect: str, kind: DecisionKind) -> bool:
    if expect == "deny":
        return kind is not DecisionKind.ALLOW
    return kind.value == expect


def scp_chain(
    guardrails: Guardrails,
    policies: Mapping[str, str],
    *,
    ou_path: str,
    account_id: str,
    cache: PolicyCache,
) -> tuple[tuple[tuple[str, Policy], ...], ...]:
    """The SCP levels of an account in ``ou_path`` (root, each OU down the path, the account),
    each a tuple of (name, policy)."""
    levels = [ScpTarget(TargetKind.ROOT)]
    parts = [p for p in ou_path.split("/") if p]
    levels += [ScpTarget(TargetKind.OU, "/".join(parts[: i + 1])) for i in range(len(parts))]
    levels.append(ScpTarget(TargetKind.ACCOUNT, account_id))
    full = cache.get(FULL_AWS_ACCESS, label="FullAWSAccess")
    chain: list[tuple[tuple[str, Policy], ...]] = []
    for target in levels:
        attached = [("FullAWSAccess", full)]
        attached += [
            (scp.name, cache.get(policies[scp.file], label=scp.name))
            for scp in guardrails.scps
            if target in scp.parsed_targets()
        ]
        chain.append(tuple(attached))
    return tuple(chain)


@dataclass(frozen=True)
class AccountCall:
    """A call evaluated in one account: the decision, and the principal and resource ARNs with
    ``{account}`` replaced."""

    decision: Decision
    principal: str
    resource: str


def evaluate_in_account(
    *,
    account_id: str,
    principal: str,
    action: str,
    resource: str,
    context: Mapping[str, object] | None,
    identity: tuple[Policy, ...],
    scps: tuple[tuple[Policy, ...], ...],
    cache: PolicyCache,
    where: str = "",
) -> AccountCall:
    """Evaluate a call in ``account_id`` (``{account}`` in ARNs stands for it) under ``scps``
    (root first) and ``identity`` (none: an administrator, ``Allow *`` on ``*``, so the SCPs
    alone decide). ValidationError (prefixed with ``where``) for a bad principal."""
    principal_arn = principal.replace("{account}", account_id)
    resolved = resource.replace("{account}", account_id)
    try:
        caller = principal_from_arn(principal_arn)
    except ValueError as exc:
        raise ValidationError(
            f"{where}principal: {exc}",
            hint="use an IAM role or user ARN; {account} stands for the tenant account",
        ) from None
    policies = PolicySet(
        identity=identity or (cache.get(FULL_AWS_ACCESS, label="administrator"),), scps=scps
    )
    decision = evaluate(make_request(caller, action, resolved, context=context), policies)
    return AccountCall(decision=decision, principal=principal_arn, resource=resolved)


def _run_one(
    test: GuardrailTest,
    guardrails: Guardrails,
    policies: Mapping[str, str],
    *,
    tenant_ou: str,
    cache: PolicyCache,
) -> GuardrailResult:
    identity = tuple(cache.get(policies[path], label=path) for path in test.identity_policies)
    chain = scp_chain(
        guardrails,
        policies,
        ou_path=test.ou or tenant_ou,
        account_id=GUARDRAIL_ACCOUNT,
        cache=cache,
    )
    call = evaluate_in_account(
        account_id=GUARDRAIL_ACCOUNT,
        principal=test.principal,
        action=test.action,
        resource=test.resource,
        context=dict(test.context),
        identity=identity,
        scps=tuple(tuple(p for _, p in level) for level in chain),
        cache=cache,
        where=f"guardrail test {test.name!r}: ",
    )
    decision, principal_arn, resource = call.decision, call.principal, call.resource
    return GuardrailResult(
        name=test.name,
        expect=test.expect,
        decision=decision,
        passed=_matches(test.expect, decision.kind),
        principal=principal_arn,
        action=test.action,
        resource=resource,
        scp_names=tuple(tuple(name for name, _ in level) for level in chain),
    )


def run_guardrail_tests(
    guardrails: Guardrails, policies: Mapping[str, str], *, tenant_ou: str
) -> list[GuardrailResult]:
    """Every guardrail test of the spec, in spec order. ``policies``: text by spec path."""
    cache = PolicyCache()
    return [
        _run_one(test, guardrails, policies, tenant_ou=tenant_ou, cache=cache)
        for test in guardrails.tests
    ]
