"""HTTP plumbing for the sandbox server: buffered replies, request classification, replay environs.

The sandbox middleware needs a response it can inspect and rewrite before the client sees it,
the AWS operation name a request carries (whatever the protocol), whether that operation
changes state, and a way to rebuild a WSGI request from a journal entry.

It also builds AWS errors in the JSON and query protocols' shapes, and reads and writes the
form bodies of query-protocol requests.

Who calls it: ``cloud.sandbox.app``, ``cloud.sandbox.organizations`` and
``cloud.sandbox.cloudformation``, inside the sandbox server process only.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment
from xml.sax.saxutils import escape

from stockade.cloud.sandbox.journal import JournalEntry

#: operations whose name starts like this only read state (AWS's own naming convention)
READ_PREFIXES = ("Describe", "List", "Get", "Head")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

_RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/([^/]+)$")
#: a SigV4 Authorization header's credential: access key, date, region, service
_SIGV4_CREDENTIAL = re.compile(r"Credential=([^/\s]+)/\d{8}/([^/\s]+)/([^/\s]+)/aws4_request")
#: request headers a journal entry keeps (besides every x-amz-* and x-moto-* header)
_KEPT_ENVIRON_KEYS = frozenset(
    {
        "CONTENT_TYPE",
        "HTTP_AUTHORIZATION",
        "HTTP_HOST",
        "HTTP_CONTENT_ENCODING",
        "HTTP_CONTENT_MD5",
    }
)


@dataclass
class Reply:
    """A complete, buffered HTTP response."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def status_line(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def with_json(self, data: Any) -> Reply:
        """The same reply carrying ``data`` as its body (Content-Length fixed up)."""
        return self.with_body(json.dumps(data).encode("utf-8"))

    def with_body(self, body: bytes) -> Reply:
        """The same reply carrying ``body`` (Content-Length fixed up)."""
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        return Reply(self.status, headers, body)


def json_reply(
    status: int, data: Any, *, request_id: str, content_type: str = JSON_CONTENT_TYPE
) -> Reply:
    body = json.dumps(data).encode("utf-8")
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", request_id),
    ]
    return Reply(status, headers, body)


def aws_json_error(status: int, code: str, message: str, *, request_id: str) -> Reply:
    """An error in the AWS JSON protocol's shape (what botocore parses for Organizations)."""
    return json_reply(status, {"__type": code, "Message": message}, request_id=request_id)


def aws_query_error(
    status: int, code: str, message: str, *, namespace: str, request_id: str
) -> Reply:
    """An error in the AWS query protocol's shape (what botocore parses for CloudFormation)."""
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    headers = [
        ("Content-Type", "text/xml"),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", request_id),
    ]
    return Reply(status, headers, body)


def form_params(body: bytes) -> dict[str, str]:
    """A query-protocol request's parameters (the form body); the first value of each."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        params.setdefault(key, value)
    return params


def form_body(params: dict[str, str]) -> bytes:
    """The form body for ``params`` (the inverse of ``form_params``)."""
    return urlencode(params).encode("ascii")


def read_body(environ: WSGIEnvironment) -> bytes:
    """Read the whole request body (Content-Length or chunked) and make it re-readable."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        data = bytes(stream.read(int(length)))
    elif environ.get("wsgi.input_terminated"):
        data = bytes(stream.read())
    else:
        data = b""
    set_body(environ, data)
    return data


def set_body(environ: WSGIEnvironment, data: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)


def call_app(app: WSGIApplication, environ: WSGIEnvironment, body: bytes) -> Reply:
    """Run a WSGI app to completion and buffer what it answered."""
    set_body(environ, body)
    captured: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = list(headers)
        return lambda _data: None

    result: Iterable[bytes] = app(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Reply(int(captured["status"]), captured["headers"], data)


def send(reply: Reply, start_response: StartResponse) -> list[bytes]:
    start_response(reply.status_line, reply.headers)
    return [reply.body]


@dataclass(frozen=True)
class Signature:
    """Who signed a request (SigV4), for which region and service."""

    access_key: str
    region: str
    service: str


def signature(environ: WSGIEnvironment) -> Signature | None:
    """The SigV4 credential scope of a signed request; None for unsigned ones."""
    match = _SIGV4_CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    return Signature(*match.groups()) if match else None


def operation_name(environ: WSGIEnvironment, body: bytes) -> str | None:
    """The AWS operation a request names: X-Amz-Target (JSON), Action= (query), or rpc-v2 path."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    if "Action" in query:
        return query["Action"][0]
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if content_type.startswith("application/x-www-form-urlencoded") and body:
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    match = _RPC_V2_PATH.match(str(environ.get("PATH_INFO", "")))
    return match.group(1) if match else None


def is_mutating(method: str, operation: str | None) -> bool:
    """Whether a request may change state (and so is reseeded and journaled)."""
    if operation:
        return not operation.startswith(READ_PREFIXES)
    return method.upper() not in READ_METHODS


def entry_for(environ: WSGIEnvironment, body: bytes, *, seq: int, time: float) -> JournalEntry:
    headers = {
        _header_name(key): str(value)
        for key, value in environ.items()
        if key in _KEPT_ENVIRON_KEYS or key.startswith(("HTTP_X_AMZ_", "HTTP_X_MOTO_"))
    }
    return JournalEntry(
        seq=seq,
        time=time,
        method=str(environ.get("REQUEST_METHOD", "GET")),
        path=str(environ.get("PATH_INFO", "/")),
        query=str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
    )


def base_environ(
    *,
    method: str,
    path: str,
    query: str,
    server_name: str,
    server_port: int,
    protocol: str = "HTTP/1.1",
    remote_addr: str = "127.0.0.1",
) -> WSGIEnvironment:
    """The WSGI environ of a request before its headers and body (PEP 3333's keys)."""
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": protocol,
        "REMOTE_ADDR": remote_addr,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def environ_for(entry: JournalEntry, *, server_port: int) -> WSGIEnvironment:
    """A WSGI environ equivalent (for moto) to the one the entry was recorded from."""
    environ = base_environ(
        method=entry.method,
        path=entry.path,
        query=entry.query,
        server_name="127.0.0.1",
        server_port=server_port,
    )
    for name, value in entry.headers.items():
        environ[environ_key(name)] = value
    set_body(environ, entry.body)
    return environ


def _header_name(environ_key: str) -> str:
    key = environ_key.removeprefix("HTTP_")
    return "-".join(part.capitalize() for part in key.split("_"))


def environ_key(header: str) -> str:
    key = header.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
