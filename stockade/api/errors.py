"""The API's single error shape, and the exception handlers that produce it.

Every error response, whatever raised it, is
``{"error": {"code": "STK-....", "message": "...", "hint": "..."}}`` with the status taken from
``StockadeError.http_status``. Request validation errors name the offending field; unexpected
exceptions become a 500 with code STK-0000 and no detail (the traceback goes to the server log
only).

Who calls it: ``stockade.api.app`` (installs the handlers), ``stockade.api.access`` and
``stockade.api.middleware`` (answer with the same shape before routing).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockade.domain.errors import (
    AuthError,
    NotFoundError,
    RequestTooLargeError,
    StockadeError,
    ValidationError,
)

_log = logging.getLogger(__name__)

#: how many validation problems one error message lists before summarising the rest
_MAX_LISTED_PROBLEMS = 5


def error_payload(code: str, message: str, hint: str = "") -> dict[str, dict[str, str]]:
    """The body of every error response."""
    return {"error": {"code": code, "message": message, "hint": hint}}


def error_response(error: StockadeError) -> JSONResponse:
    """The response for a Stockade error: its status, its code/message/hint, and for 401 the
    ``WWW-Authenticate`` challenge."""
    headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None
    return JSONResponse(
        error_payload(error.code, error.message, error.hint),
        status_code=error.http_status,
        headers=headers,
    )


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """``body.id: Field required; query.limit: ...`` from pydantic/FastAPI error dicts.

    Only locations and messages are used, never the offending input, so a bad request never
    echoes data (or secrets) back.
    """
    parts: list[str] = []
    for item in errors[:_MAX_LISTED_PROBLEMS]:
        loc = item.get("loc", ()) if isinstance(item, dict) else ()
        msg = item.get("msg", "invalid value") if isinstance(item, dict) else "invalid value"
        kind = item.get("type", "") if isinstance(item, dict) else ""
        where = ".".join(str(part) for part in loc) or "request"
        if kind == "json_invalid":
            # the position inside the document is noise; say what is wrong instead
            where = str(loc[0]) if loc else "body"
            msg = "malformed JSON"
        parts.append(f"{where}: {msg}")
    if len(errors) > _MAX_LISTED_PROBLEMS:
        parts.append(f"and {len(errors) - _MAX_LISTED_PROBLEMS} more")
    return "; ".join(parts) or "invalid request"


async def _stockade_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StockadeError)
    return error_response(exc)


async def _request_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    error = ValidationError(
        describe_validation_errors(exc.errors()),
        hint="see /openapi.json for the request schema",
    )
    return error_response(error)


def _http_error(status: int, detail: str) -> StockadeError:
    """A Stockade error for Starlette's own HTTP errors (unknown route, wrong method, ...)."""
    error: StockadeError
    if status == 404:
        error = NotFoundError("no such route", hint="see /openapi.json for the routes")
    elif status == 401:
        error = AuthError(detail or "authentication required")
    elif status == 413:
        error = RequestTooLargeError(detail or "request body too large")
    elif 400 <= status < 500:
        error = ValidationError(detail or "bad request", hint="see /openapi.json for the routes")
    else:
        error = StockadeError(detail or "internal error")
    error.http_status = status
    return error


async def _starlette_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    response = error_response(_http_error(exc.status_code, str(exc.detail)))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    incident = secrets.token_hex(6)
    _log.error("unhandled error in API request (incident %s)", incident, exc_info=exc)
    return JSONResponse(
        error_payload(
            StockadeError.code,
            "internal server error",
            f"the server log has the details under incident {incident}",
        ),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error leaving ``app`` use the one JSON shape."""
    app.add_exception_handler(StockadeError, _stockade_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _starlette_http_error)
    app.add_exception_handler(Exception, _unexpected_error)
