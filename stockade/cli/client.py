"""A thin HTTP client of the Stockade API for the CLI, mapping API errors to ``StockadeError``.

Every call returns the API's JSON document unchanged (so ``--output json`` prints exactly what
the API said). Error responses become the ``StockadeError`` subclass matching the HTTP status,
keeping the API's code, message and hint; transport failures become one clear line naming the
server. The ``http`` argument is the seam for tests: any ``httpx.Client`` works, including
Starlette's ``TestClient`` over an in-process app.

``rollout_events`` follows a rollout's server-sent event stream (``stockade.cli.sse`` parses
it); a stream that cannot be opened or drops raises ``ApiUnreachableError`` like any call.

Who calls it: the CLI commands (``stockade.cli.tenant``, ``plan``, ``rollout``, ``progress``,
``tokens``, ``audit``, ``access``, ``scan``), built by ``stockade.cli.context``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from stockade.cli.sse import SseEvent, parse_sse
from stockade.domain.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    StockadeError,
    ValidationError,
)

#: HTTP status -> the error class the CLI raises (anything else: StockadeError, exit 1)
_ERRORS_BY_STATUS: dict[int, type[StockadeError]] = {
    400: ValidationError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    422: ValidationError,
}

DEFAULT_TIMEOUT_SECONDS = 30.0
#: a credential scan reads every tenant account before it answers
SCAN_TIMEOUT_SECONDS = 900.0


class ApiUnreachableError(StockadeError):
    """The API did not answer: not running, wrong address, or the connection broke."""

    code = "STK-0100"
    transient = True

    def one_line(self) -> str:
        # the code would only distract: say what is wrong and what to do
        return f"{self.message} ({self.hint})" if self.hint else self.message


def error_from_response(response: httpx.Response) -> StockadeError:
    """The ``StockadeError`` for an API error response (any body shape, even non-JSON)."""
    status = response.status_code
    cls = _ERRORS_BY_STATUS.get(status, StockadeError)
    code, message, hint = cls.code, f"the API answered HTTP {status}", ""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        code = str(detail.get("code") or code)
        message = str(detail.get("message") or message)
        hint = str(detail.get("hint") or "")
    error = cls(message, hint=hint)
    error.code = code
    error.http_status = status
    return error


class StockadeClient:
    """Calls the Stockade API at ``server`` with a bearer ``token``."""

    def __init__(
        self,
        server: str,
        *,
        token: str | None,
        http: httpx.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._owns_http = http is None
        self._http = (
            http if http is not None else httpx.Client(base_url=self.server, timeout=timeout)
        )
        self._timeout = timeout

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> StockadeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- tenants ------------------------------------------------------------------------

    def create_tenant(
        self,
        tenant_id: str,
        *,
        tier: str,
        name: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"id": tenant_id, "tier": tier}
        if name is not None:
            body["name"] = name
        if labels:
            body["labels"] = labels
        return self._call("POST", "/api/v1/tenants", json=body)

    def list_tenants(
        self,
        *,
        state: str | None = None,
        tier: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        params = {"state": state, "tier": tier, "limit": limit, "offset": offset}
        query = {key: value for key, value in params.items() if value is not None}
        return self._call("GET", "/api/v1/tenants", params=query)

    def get_tenant(self, tenant_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/tenants/{_segment(tenant_id)}")

    def retry_tenant(self, tenant_id: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/tenants/{_segment(tenant_id)}/retry")

    def fleet_summary(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/fleet/summary")

    def plan(self, *, refresh: bool = False, include_unchanged: bool = False) -> dict[str, Any]:
        body = {"refresh": refresh, "include_unchanged": include_unchanged}
        return self._call("POST", "/api/v1/plans", json=body)

    def explain(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/policy/explain", json=body)

    # --- rollouts -----------------------------------------------------------------------

    def apply(self, *, refresh: bool = False) -> dict[str, Any]:
        return self._call("POST", "/api/v1/rollouts", json={"refresh": refresh})

    def list_rollouts(
        self, *, state: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        params = {"state": state, "limit": limit}
        query = {key: value for key, value in params.items() if value is not None}
        return self._call("GET", "/api/v1/rollouts", params=query)

    def get_rollout(self, rollout_id: str) -> dict[str, Any]:
        return self._call("GET", _rollout_path(rollout_id))

    def halt_rollout(self, rollout_id: str, *, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason is not None else {}
        return self._call("POST", _rollout_path(rollout_id, "halt"), json=body)

    def resume_rollout(self, rollout_id: str) -> dict[str, Any]:
        return self._call("POST", _rollout_path(rollout_id, "resume"))

    def rollback_rollout(self, rollout_id: str) -> dict[str, Any]:
        return self._call("POST", _rollout_path(rollout_id, "rollback"))

    def rollout_events(self, rollout_id: str) -> Generator[SseEvent, None, None]:
        """The rollout's server-sent events until the server ends the stream. API errors
        (an unknown rollout) raise as for any call; a failed or dropped connection raises
        ``ApiUnreachableError``. Close the iterator to stop early."""
        headers = self._headers("text/event-stream")
        with (
            self._transport_errors(),
            self._http.stream(
                "GET", _rollout_path(rollout_id, "events"), headers=headers
            ) as response,
        ):
            if response.is_error:
                response.read()
                raise error_from_response(response)
            yield from parse_sse(response.iter_lines())

    # --- tokens and the audit trail ------------------------------------------------------

    def create_token(
        self, name: str, *, role: str, tenants: list[str] | None = None
    ) -> dict[str, Any]:
        """The new token's document, with the plaintext ``token`` (shown once)."""
        body: dict[str, Any] = {"name": name, "role": role}
        if tenants is not None:
            body["tenants"] = tenants
        return self._call("POST", "/api/v1/tokens", json=body)

    def list_tokens(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/tokens")

    def revoke_token(self, token_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/api/v1/tokens/{_segment(token_id)}")

    def audit_events(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        subject: str | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        params = {
            "actor": actor,
            "action": action,
            "subject": subject,
            "since": since,
            "limit": limit,
        }
        query = {key: value for key, value in params.items() if value is not None}
        return self._call("GET", "/api/v1/audit", params=query)

    def verify_audit(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/audit/verify")

    # --- scans --------------------------------------------------------------------------

    def scan_credentials(
        self, *, tenants: list[str] | None = None, timeout: float = SCAN_TIMEOUT_SECONDS
    ) -> dict[str, Any]:
        """A credential scan: the server answers once every account is read (minutes for a
        large fleet), hence its own ``timeout``."""
        body = {"tenants": tenants} if tenants else None
        return self._call("POST", "/api/v1/scans/credentials", json=body, timeout=timeout)

    # --- access (people's credentials, break-glass requests) ---------------------------

    def issue_access(
        self,
        tenant_id: str,
        *,
        role: str,
        reason: str,
        duration_seconds: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Credentials in the tenant's account (the only document that carries them)."""
        body: dict[str, Any] = {"role": role, "reason": reason}
        if duration_seconds is not None:
            body["duration_seconds"] = duration_seconds
        if request_id is not None:
            body["request_id"] = request_id
        return self._call("POST", f"/api/v1/tenants/{_segment(tenant_id)}/access", json=body)

    def access_profiles(self, *, role: str | None = None) -> dict[str, Any]:
        params = {"role": role} if role is not None else None
        return self._call("GET", "/api/v1/access/profiles", params=params)

    def request_access(
        self, tenant_id: str, *, reason: str, duration_seconds: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"tenant": tenant_id, "reason": reason}
        if duration_seconds is not None:
            body["duration_seconds"] = duration_seconds
        return self._call("POST", "/api/v1/access/requests", json=body)

    def list_access_requests(
        self, *, state: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        params = {"state": state, "limit": limit}
        query = {key: value for key, value in params.items() if value is not None}
        return self._call("GET", "/api/v1/access/requests", params=query)

    def approve_access_request(self, request_id: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/access/requests/{_segment(request_id)}/approve")

    def deny_access_request(self, request_id: str, *, reason: str) -> dict[str, Any]:
        return self._call(
            "POST",
            f"/api/v1/access/requests/{_segment(request_id)}/deny",
            json={"reason": reason},
        )

    # --- plumbing -----------------------------------------------------------------------

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        """Turn httpx's transport failures into one clear ``ApiUnreachableError``."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise ApiUnreachableError(
                f"the Stockade API at {self.server} did not answer within {self._timeout:g} s",
                hint="is it overloaded? try again, or check the server log",
            ) from exc
        except httpx.ConnectError as exc:
            raise ApiUnreachableError(
                f"cannot reach the Stockade API at {self.server}",
                hint="is `stockade up` running?",
            ) from exc
        except httpx.TransportError as exc:
            raise ApiUnreachableError(
                f"lost the connection to the Stockade API at {self.server}: {type(exc).__name__}",
                hint="is `stockade up` running? check --server",
            ) from exc

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        headers = self._headers("application/json")
        # a per-call timeout only when asked for (the tests' in-process client refuses one)
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        with self._transport_errors():
            response = self._http.request(
                method, path, json=json, params=params, headers=headers, **extra
            )
        if response.is_error:
            raise error_from_response(response)
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise StockadeError(
                f"the server at {self.server} did not answer with a Stockade API document",
                hint="check --server: it must point at `stockade up`'s address",
            )
        return document


def _rollout_path(rollout_id: str, action: str = "") -> str:
    path = f"/api/v1/rollouts/{_segment(rollout_id)}"
    return f"{path}/{action}" if action else path


def _segment(value: str) -> str:
    """``value`` as one URL path segment (so an id like ``../x`` cannot change the route)."""
    return quote(value, safe="")
