"""Translate botocore errors into ``domain.errors`` — the only place that reads AWS error codes.

Who calls it: every adapter module in ``cloud.aws`` wraps its calls in ``translate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from stockade.domain.errors import (
    CloudAccessDenied,
    CloudError,
    ThrottledError,
    TransientCloudError,
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceException",
        "ConcurrentModificationException",
        "RequestTimeout",
        "RequestTimeoutException",
        "IDPCommunicationError",
    }
)

#: AWS's "you may not" codes, across protocols (STS and IAM answer AccessDenied)
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def to_stockade(exc: BaseException, operation: str) -> CloudError:
    """The domain error for a botocore exception raised by ``operation``."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", "")) or code
        text = f"{operation}: {code}: {message}"
        if code in THROTTLING_CODES:
            return ThrottledError(text, hint="AWS throttled the call; it will be retried")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
        if code in TRANSIENT_CODES or status >= 500:
            return TransientCloudError(text, hint="a transient AWS error; it will be retried")
        if code in ACCESS_DENIED_CODES:
            return CloudAccessDenied(
                text, hint="check the role Stockade assumed and the SCPs over the account"
            )
        return CloudError(text, hint="check the AWS error code in the AWS API reference")
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError):
        return TransientCloudError(
            f"{operation}: cannot reach AWS: {exc}", hint="check the network; it will be retried"
        )
    return CloudError(f"{operation}: {exc}")


@contextmanager
def translate(operation: str) -> Iterator[None]:
    """Run AWS calls, re-raising any botocore error as a domain error chained to it."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise to_stockade(exc, operation) from exc
