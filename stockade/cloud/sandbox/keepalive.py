"""The sandbox's HTTP/1.1 server: a threaded WSGI server that keeps connections alive.

werkzeug's development server (what ``moto_server`` uses) answers every request with
``Connection: close`` and then waits up to 10 ms for stray request bytes to discard, because
``http.server`` cannot otherwise find the next request line. That costs the sandbox a TCP accept
and a new thread per request, and every client a new connection — AWS keeps connections alive and
botocore pools them — which at a few hundred requests per second is a real share of both
processes' CPU. This server reads every request body whole (``Content-Length`` or chunked) before
it calls the application, so the next request line is always where it should be, and keeps the
connection open unless the client asks to close it (or speaks HTTP/1.0). An idle connection is
closed after ``IDLE_SECONDS``; one thread serves one connection, as before.

The WSGI environ it builds is the standard one (PEP 3333); header names keep their spelling in
``HTTP_*`` keys as WSGI requires. Nothing here knows about AWS: ``SandboxApp`` is the application.

Who calls it: ``cloud.sandbox.server`` (``make_server``).
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from stockade.cloud.sandbox.wire import base_environ, call_app, environ_key

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

__all__ = ["IDLE_SECONDS", "KeepAliveServer", "make_server"]

log = logging.getLogger("stockade.sandbox")

#: an idle client connection is closed after this long (botocore reconnects when it needs to)
IDLE_SECONDS = 60.0
#: request bodies larger than this are refused (the sandbox's largest are templates, < 1 MiB)
MAX_BODY_BYTES = 64 * 1024 * 1024


class KeepAliveServer(ThreadingHTTPServer):
    """A thread per connection (daemon threads: a stopping server does not wait for idle ones)."""

    daemon_threads = True
    app: WSGIApplication

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    #: buffer the response: status, headers and body leave in one write at the end of the
    #: request (``handle_one_request`` flushes). Written separately, the body would wait for
    #: the client's delayed ACK of the headers (Nagle's algorithm): ~40 ms per request.
    wbufsize = 256 * 1024
    server: KeepAliveServer

    def do_GET(self) -> None:
        self._run()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """No line per request (the journal records what matters)."""

    def _run(self) -> None:
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self.send_error(400, str(exc))
            return
        try:
            reply = call_app(self.server.app, self._environ(), body)
        except Exception:  # an application bug: answer 500 as werkzeug did, and log it
            log.exception("unhandled error serving %s %s", self.command, self.path)
            self.close_connection = True
            self.send_error(500, "internal error in the sandbox (see its log)")
            return
        self.send_response_only(reply.status)
        self.send_header("Date", self.date_time_string())
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and reply.body:
            self.wfile.write(reply.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise _BadRequest(f"bad Content-Length {length!r}") from None
        if not 0 <= size <= MAX_BODY_BYTES:
            raise _BadRequest(f"Content-Length {size} out of range")
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers, then the blank line
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadRequest("chunked body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(16)  # the CRLF after the chunk

    def _environ(self) -> WSGIEnvironment:
        path, _, query = self.path.partition("?")
        if path.startswith(("http://", "https://")):  # an absolute-form request target
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        host, port = self.server.server_address[:2]
        environ = base_environ(
            method=self.command,
            path=unquote_to_bytes(path).decode("latin-1"),
            query=query,
            server_name=str(host),
            server_port=int(port),
            protocol=self.request_version,
            remote_addr=self.client_address[0],
        )
        for name, value in self.headers.items():
            key = environ_key(name)
            if key not in ("CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"):
                # repeated headers are joined with commas, as HTTP allows
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ


def make_server(host: str, port: int, app: WSGIApplication) -> KeepAliveServer:
    """Bind ``host:port`` (raises ``OSError``, e.g. EADDRINUSE) and serve ``app`` once started."""
    server = KeepAliveServer((host, port), _Handler)
    server.app = app
    return server
