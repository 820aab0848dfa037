"""The error hierarchy every layer raises and every edge maps.

Each error carries a stable ``code`` (``STK-...``), a message that says what went wrong, and a
``hint`` that says what the user can do next. ``transient`` tells workflows whether retrying can
help. Adapters translate third-party errors into these once, at the boundary, chaining the
original (``raise ... from exc``); the CLI maps them to exit codes and the API to HTTP statuses.
"""

from __future__ import annotations


class StockadeError(Exception):
    """Base of every error Stockade raises on purpose."""

    code = "STK-0000"
    transient = False
    #: the HTTP status the API answers with, and the CLI's exit code is derived from it
    http_status = 500

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The single line shown to users: code, message and what to do."""
        text = f"{self.code}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ValidationError(StockadeError):
    """Bad input from the user: a flag, a request body, a spec file. Nothing was written."""

    code = "STK-1000"
    http_status = 422


class RequestTooLargeError(ValidationError):
    """The request body is larger than the API accepts."""

    code = "STK-1010"
    http_status = 413


class SpecError(ValidationError):
    """The fleet spec or one of the files it references is invalid."""

    code = "STK-1100"


class GuardrailTestsFailed(ValidationError):
    """The spec's guardrail tests fail: plan and apply refuse the spec."""

    code = "STK-1160"


class NotFoundError(StockadeError):
    """The named object does not exist."""

    code = "STK-1200"
    http_status = 404


class ConflictError(StockadeError):
    """The request conflicts with recorded state (duplicate id, wrong lifecycle state)."""

    code = "STK-1300"
    http_status = 409


class AuthError(StockadeError):
    """Missing or invalid credentials for Stockade's own API."""

    code = "STK-1400"
    http_status = 401


class ForbiddenError(AuthError):
    """The caller is authenticated but its role may not do this."""

    code = "STK-1410"
    http_status = 403


class CloudError(StockadeError):
    """An AWS call failed permanently: retrying the same call will not help."""

    code = "STK-2000"
    http_status = 502


class TransientCloudError(CloudError):
    """An AWS call failed in a way that retrying later can fix (throttling, 5xx, timeouts)."""

    code = "STK-2100"
    transient = True
    http_status = 503


class ThrottledError(TransientCloudError):
    """AWS throttled the call: the rate budget was too generous or someone else shares it."""

    code = "STK-2101"


class AccountCreationFailed(CloudError):
    """AWS reported CreateAccount as FAILED, with AWS's failure reason."""

    code = "STK-2200"

    def __init__(self, reason: str, *, hint: str = "") -> None:
        super().__init__(f"CreateAccount failed: {reason}", hint=hint)
        self.reason = reason


class StackDeploymentFailed(CloudError):
    """A CloudFormation stack ended in a failed state or did not finish in time."""

    code = "STK-2300"


class SandboxError(StockadeError):
    """The embedded sandbox could not start, restore or stop."""

    code = "STK-3000"


class StoreError(StockadeError):
    """The database is unreachable, out of date or inconsistent."""

    code = "STK-4000"


class StoreBusyError(StoreError):
    """A transaction lost to a concurrent one (lock timeout, serialization failure)."""

    code = "STK-4001"
    transient = True
    http_status = 503


# --- the access broker (``stockade access``) ---------------------------------------------------


class ApprovalRequiredError(ForbiddenError):
    """Break-glass access without an approved request."""

    code = "STK-1500"


class SelfApprovalError(ForbiddenError):
    """The requester of a break-glass request tried to approve it: a second person must."""

    code = "STK-1510"


class AccessNotAllowedError(ForbiddenError):
    """The caller's API role may not get this access level, or use or decide this request."""

    code = "STK-1520"


class AccessRequestExpiredError(ConflictError):
    """The break-glass request was not approved, or not used, in time."""

    code = "STK-1530"


class AccessRequestClosedError(ConflictError):
    """The break-glass request is not in the state the action needs (decided, used)."""

    code = "STK-1540"


class AccessUnavailableError(ConflictError):
    """The tenant has no account people can be given access to (not active, no account)."""

    code = "STK-1550"


# --- narrow roles and credential scans ----------------------------------------------------------


class CloudAccessDenied(CloudError):
    """AWS refused a call for lack of permission (``AccessDenied``): the role Stockade acts as
    may not do it, or may not be assumed (missing, locked, not trusted)."""

    code = "STK-1600"
