"""The sandbox server's WSGI middleware around moto: one lock, deterministic ids, the journal.

Every request goes through ``SandboxApp``: requests are processed one at a time (moto's
backends are not thread-safe); before each mutating request moto's random is reseeded from
(seed, sequence number), so ids depend only on the seed and the order of mutating requests;
each mutating request that succeeds is appended to the journal and fsync'ed before the client
gets its response. On start, ``replay`` sends every journaled request through the same path in
the same order, which rebuilds moto's state with the very same ids.

It also serves the sandbox's own endpoints (``GET /_stockade/sandbox``, ``POST
/_stockade/faults``, ``GET /_stockade/stack-operations[?account_id=]``, ``POST
/_stockade/iam/credentials``: see ``cloud.sandbox.iam``), hands Organizations
calls to ``organizations.OrganizationsRealism`` (account creations) or
``organizations_policies.PolicyRealism`` (policy rules), CloudFormation calls to
``cloudformation.CloudFormationRealism`` (stack operations that take time, and their log) and
STS AssumeRole to ``sts.StsRealism`` (durations, session names, source identity, tags).
With ``authorization`` (``iam_authorization.IamAuthorization``), every live request is first
checked against the caller's IAM policies.

Who calls it: ``cloud.sandbox.server`` builds one per sandbox process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from moto.backends import SERVICE_NAMES
from moto.iam import models as iam_models
from moto.moto_api._internal import mock_random
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.organizations.utils import make_random_create_account_status_id

from stockade.cloud.sandbox import wire
from stockade.cloud.sandbox.cloudformation import (
    CloudFormationRealism,
    Moto,
    cloudformation_region,
)
from stockade.cloud.sandbox.creations import AccountCreations, Fault, FaultError
from stockade.cloud.sandbox.iam import CREDENTIALS_PATH, IamRealism, provision_access_role
from stockade.cloud.sandbox.iam_authorization import IamAuthorization
from stockade.cloud.sandbox.journal import Journal
from stockade.cloud.sandbox.organizations import TARGET_PREFIX, OrganizationsRealism
from stockade.cloud.sandbox.organizations_policies import PolicyRealism
from stockade.cloud.sandbox.stacks import OperationLog, StackWindows
from stockade.cloud.sandbox.sts import StsRealism
from stockade.domain.errors import SandboxError

log = logging.getLogger("stockade.sandbox")

INFO_PATH = "/_stockade/sandbox"
FAULTS_PATH = "/_stockade/faults"
STACK_OPERATIONS_PATH = "/_stockade/stack-operations"
_ACCESS_KEY = re.compile(r"Credential=([A-Za-z0-9]+)/")


def derive_seed(seed: int, seq: int) -> int:
    """The random seed for mutating request number ``seq`` (stable across processes)."""
    digest = hashlib.sha256(f"stockade-sandbox:{seed}:{seq}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class AccountResolver:
    """Which account moto acts as for a request, with the access-key lookup cached.

    moto maps an access key to its account by scanning every account's keys, on every request
    without an ``x-moto-account-id`` header: slow with thousands of accounts. A key never
    changes account, so the answer is cached, and the middleware adds the header itself.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, str] = {}

    def __call__(self, environ: WSGIEnvironment) -> str:
        header = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        if header:
            return str(header)
        match = _ACCESS_KEY.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        key = match.group(1) if match else "AKIAEXAMPLE"
        account = self._by_key.get(key)
        if account is None:
            # looked up at call time: ``moto_speedups`` replaces moto's scan with an index
            account = str(iam_models.get_account_id_from(key))
            self._by_key[key] = account
        return account


class CachedDispatcher(DomainDispatcherApplication):
    """moto's service dispatcher, remembering which backend serves which host name.

    moto's own lookup stats every backend module's directory on each request.
    ``before_create(service)`` runs before moto's app for a service is built, that is before
    the service's first request (the server patches moto's CloudFormation there).
    """

    def __init__(self, before_create: Callable[[str], None] | None = None) -> None:
        self._before_create = before_create
        super().__init__(self._create_app)
        self._backends: dict[str | None, Any] = {}

    def _create_app(self, service: SERVICE_NAMES) -> Any:
        if self._before_create is not None:
            self._before_create(service)
        return create_backend_app(service)

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class SandboxApp:
    """The WSGI app the sandbox server runs: moto behind our lock, journal and realism."""

    def __init__(
        self,
        inner: WSGIApplication,
        journal: Journal,
        *,
        port: int,
        time_scale: float,
        create_account_delay: float,
        stack_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
        authorization: IamAuthorization | None = None,
    ) -> None:
        """``authorization``: check every live request against IAM (None: allow all)."""
        self._inner = inner
        self._authorization = authorization
        self._journal = journal
        self._port = port
        self._time_scale = time_scale
        self._create_account_delay = create_account_delay
        self._stack_seconds = stack_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0  # mutating requests applied so far (journaled or replayed)
        self._closed = False
        self.restored_requests = 0
        self._creations = AccountCreations(delay=create_account_delay / time_scale)
        self._accounts = AccountResolver()
        self._organizations = OrganizationsRealism(
            self._creations,
            new_request_id=lambda: str(mock_random.uuid4()),
            new_creation_id=make_random_create_account_status_id,
            on_account_created=provision_access_role,
        )
        self._iam = IamRealism()
        self._policies = PolicyRealism(new_request_id=lambda: str(mock_random.uuid4()))
        self._sts = StsRealism(new_request_id=lambda: str(mock_random.uuid4()))
        self._stack_log = OperationLog()
        self._cloudformation = CloudFormationRealism(
            StackWindows(duration=stack_seconds / time_scale),
            self._stack_log,
            new_request_id=lambda: str(mock_random.uuid4()),
        )

    @property
    def seed(self) -> int:
        return self._journal.header.seed

    def info(self) -> dict[str, Any]:
        return {
            "instance_id": self._journal.header.instance_id,
            "restored_requests": self.restored_requests,
            "seed": self.seed,
            "time_scale": self._time_scale,
            "create_account_delay": self._create_account_delay,
            "stack_seconds": self._stack_seconds,
        }

    def replay(self) -> int:
        """Re-apply every journaled request in order; return how many were replayed."""
        with self._lock:
            for entry in self._journal.entries():
                if entry.seq != self._seq + 1:
                    raise SandboxError(
                        f"journal entry {entry.seq} is out of sequence (expected {self._seq + 1})",
                        hint="wipe the sandbox state (and Stockade's database) to start fresh",
                    )
                environ = wire.environ_for(entry, server_port=self._port)
                reply = self._handle(environ, entry.body, now=entry.time, replaying=True)
                if reply.status >= 400:
                    raise SandboxError(
                        f"journal entry {entry.seq} ({entry.method} {entry.path}) no longer "
                        f"replays: HTTP {reply.status} {reply.body[:300]!r}",
                        hint="the moto version may have changed; wipe the sandbox state "
                        "(and Stockade's database) to start fresh",
                    )
                self.restored_requests += 1
        return self.restored_requests

    def close(self) -> None:
        """Wait for the request in flight, then close the journal; later requests get 503.

        Also the state after a failed journal write (see ``_handle``).
        """
        with self._lock:
            self._closed = True
            self._journal.close()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = wire.read_body(environ)
        with self._lock:
            if self._closed:
                reply = wire.json_reply(503, {"error": "sandbox is stopping"}, request_id="-")
            else:
                reply = self._handle(environ, body, now=self._clock(), replaying=False)
        return wire.send(reply, start_response)

    # -- one request, live or replayed; the caller holds the lock --------------------------

    def _handle(
        self, environ: WSGIEnvironment, body: bytes, *, now: float, replaying: bool
    ) -> wire.Reply:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO", ""))
        if path == INFO_PATH and method in ("GET", "HEAD"):
            return wire.json_reply(
                200, self.info(), request_id="-", content_type="application/json"
            )
        if "HTTP_X_MOTO_ACCOUNT_ID" not in environ:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = self._accounts(environ)
        operation = wire.operation_name(environ, body)
        if self._authorization is not None and not replaying and not path.startswith("/_stockade/"):
            refusal = self._authorization.check(environ, body, operation)
            if refusal is not None:
                return refusal
        if not wire.is_mutating(method, operation):
            return self._dispatch(environ, body, operation, now=now, seq=None, replaying=replaying)
        seq = self._seq + 1
        mock_random.seed(derive_seed(self.seed, seq))
        reply = self._dispatch(environ, body, operation, now=now, seq=seq, replaying=replaying)
        if reply.status < 400:
            if not replaying:
                try:
                    self._journal.append(wire.entry_for(environ, body, seq=seq, time=now))
                except OSError:
                    # moto has applied a change the journal cannot hold: a restart would not
                    # restore it, so refuse everything from now on rather than drift
                    log.exception("cannot write the journal; the sandbox stops serving")
                    self._closed = True
                    return wire.json_reply(
                        503, {"error": "sandbox journal write failed"}, request_id="-"
                    )
            self._seq = seq
        return reply

    def _dispatch(
        self,
        environ: WSGIEnvironment,
        body: bytes,
        operation: str | None,
        *,
        now: float,
        seq: int | None,
        replaying: bool,
    ) -> wire.Reply:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/_stockade/"):
            return self._own_endpoint(environ, body, path)
        region = cloudformation_region(environ)
        if region is not None and operation is not None:
            return self._cloudformation_call(
                environ, body, operation, region, now=now, seq=seq, replaying=replaying
            )
        if operation == "AssumeRole" and not replaying:
            signed = wire.signature(environ)  # read only for the one operation that needs it
            if signed is not None and signed.service == "sts":
                refusal = self._sts.check_assume_role(
                    wire.form_params(body), caller_key=signed.access_key
                )
                if refusal is not None:
                    return refusal
        target = environ.get("HTTP_X_AMZ_TARGET")
        policy_operation = PolicyRealism.operation_of(target)
        operation = OrganizationsRealism.operation_of(target) or policy_operation
        if operation is None:
            return wire.call_app(self._inner, environ, body)

        def forward(as_operation: str, forward_body: bytes) -> wire.Reply:
            copy = dict(environ)
            copy["HTTP_X_AMZ_TARGET"] = TARGET_PREFIX + as_operation
            return wire.call_app(self._inner, copy, forward_body)

        if policy_operation is not None:
            return self._policies.handle(
                policy_operation, body, forward=forward, replaying=replaying
            )
        return self._organizations.handle(
            operation, body, caller=self._accounts(environ), now=now, forward=forward
        )

    def _cloudformation_call(
        self,
        environ: WSGIEnvironment,
        body: bytes,
        operation: str,
        region: str,
        *,
        now: float,
        seq: int | None,
        replaying: bool,
    ) -> wire.Reply:
        def to_moto(moto_body: bytes) -> wire.Reply:
            return wire.call_app(self._inner, dict(environ), moto_body)

        def look(moto_body: bytes) -> wire.Reply:
            state = mock_random.getstate()
            try:
                return to_moto(moto_body)
            finally:
                mock_random.setstate(state)

        return self._cloudformation.handle(
            operation,
            body,
            account_id=self._accounts(environ),
            region=region,
            now=now,
            seq=seq,
            replaying=replaying,
            moto=Moto(forward=to_moto, look=look),
        )

    def _own_endpoint(self, environ: WSGIEnvironment, body: bytes, path: str) -> wire.Reply:
        method = environ.get("REQUEST_METHOD")
        if path == FAULTS_PATH and method == "POST":
            return self._add_fault(body)
        if path == CREDENTIALS_PATH and method == "POST":
            return self._iam.handle(body)
        if path == STACK_OPERATIONS_PATH and method in ("GET", "HEAD"):
            query = parse_qs(str(environ.get("QUERY_STRING", "")))
            account_id = query["account_id"][0] if "account_id" in query else None
            operations = [op.to_json() for op in self._stack_log.operations(account_id)]
            return wire.json_reply(
                200, {"operations": operations}, request_id="-", content_type="application/json"
            )
        return wire.json_reply(
            404,
            {"error": f"no such sandbox endpoint: {path}"},
            request_id="-",
            content_type="application/json",
        )

    def _add_fault(self, body: bytes) -> wire.Reply:
        try:
            fault = Fault.parse(json.loads(body or b"null"))
        except (ValueError, FaultError) as exc:
            return wire.json_reply(
                400, {"error": str(exc)}, request_id="-", content_type="application/json"
            )
        self._creations.add_fault(fault)
        log.info(
            "fault injected: %s -> %s (times=%s)", fault.pattern, fault.reason, fault.remaining
        )
        return wire.json_reply(200, {"ok": True}, request_id="-", content_type="application/json")
