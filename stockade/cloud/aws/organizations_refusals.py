"""AWS Organizations refusals the caller can act on, as domain errors that say what to do next.

A target at its SCP limit, a policy still attached or too large, SCPs not enabled, a missing
target: each becomes ``ConflictError``, ``ValidationError``, ``NotFoundError`` or
``TransientCloudError`` with a hint; anything else is left to ``errors.translate``.

Who calls it: ``cloud.aws.organizations_scps`` (``ServiceControlPolicies._call``).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from stockade.cloud.aws.errors import error_code
from stockade.domain.errors import (
    ConflictError,
    NotFoundError,
    StockadeError,
    TransientCloudError,
    ValidationError,
)
from stockade.domain.guardrails import ScpTarget

#: what AWS (Target-, ChildNotFoundException) and moto (AccountNotFoundException, for
#: ListParents) answer for a root, OU or account that is not there
TARGET_MISSING = frozenset(
    {"TargetNotFoundException", "ChildNotFoundException", "AccountNotFoundException"}
)
#: ConstraintViolationException reasons for a target that has as many SCPs as it may
TARGET_FULL = frozenset(
    {"MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "POLICY_NUMBER_LIMIT_EXCEEDED"}
)


def refusal_of(
    exc: ClientError, operation: str, *, what: str, target: ScpTarget | None, size: int
) -> StockadeError | None:
    """The domain error, saying what to do next, for an AWS refusal the caller can act on."""
    code = error_code(exc)
    reason = str(exc.response.get("Reason") or "")  # a ConstraintViolationException's
    if reason in TARGET_FULL and target is not None:
        return ConflictError(
            f"cannot attach {what} to {target}: it has as many SCPs as AWS allows on one root, "
            "OU or account (5 unless raised, FullAWSAccess included)",
            hint=f"detach or merge SCPs on {target}; if AWS raised the quota, set "
            "limits.scp_max_per_target in the spec",
        )
    if reason == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED":
        return ConflictError(
            f"cannot detach {what} from {target}: AWS keeps at least one SCP on every target",
            hint=f"attach another SCP (such as FullAWSAccess) to {target} first",
        )
    if reason == "POLICY_CONTENT_LIMIT_EXCEEDED":
        return ValidationError(
            f"{what} is {size:,} characters, over AWS's size limit for SCPs",
            hint="shorten or split it (every character counts: send it minified); if AWS "
            "allows your organization 10,240, set limits.scp_max_chars in the spec",
        )
    if reason == "POLICY_NUMBER_LIMIT_EXCEEDED":
        return ConflictError(
            f"cannot create {what}: the organization has as many policies as AWS allows",
            hint="delete unused SCPs, or ask AWS to raise the quota",
        )
    if code == "MalformedPolicyDocumentException":
        message = exc.response.get("Error", {}).get("Message", "")
        return ValidationError(
            f"AWS refused {what} as malformed: {message}",
            hint="check the policy file with 'stockade policy lint'",
        )
    if code in ("PolicyTypeNotEnabledException", "PolicyTypeNotAvailableForOrganizationException"):
        return ConflictError(
            f"{operation}: SCPs are not enabled (or not available) in the organization",
            hint="enable SCPs first (the SCP reconcile does); SCPs need all features enabled",
        )
    if code == "PolicyInUseException":
        return ConflictError(
            f"cannot delete {what}: it is still attached",
            hint="detach it from every root, OU and account first",
        )
    if code == "PolicyNotFoundException":
        return NotFoundError(f"{what} does not exist", hint="deleted outside Stockade? plan again")
    if code in TARGET_MISSING and target is not None:
        return NotFoundError(
            f"{target} is not in the organization",
            hint="check the target: an account must be in the organization (12 digits)",
        )
    if code == "PolicyChangesInProgressException":
        return TransientCloudError(
            f"{operation}: AWS is still applying an earlier policy change",
            hint="it will be retried",
        )
    return None
