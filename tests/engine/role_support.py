"""Which role signed each AWS call the engine made in a tenant account: a recording client hook.

``RoleRecorder`` is a ``cloud.aws.session.ClientHook``: on the management account's STS client
it remembers the role of every AssumeRole answer by the access key it issued; on every client
it records, per request (``before-send``, after signing), the account the call acts in, the
role whose key signed it (``None``: the management account's own credentials), the operation
and its ``StackName`` parameter (query protocol). One recorder is shared by the modules that
use ``NARROW_ROLES`` so they share one control plane.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from botocore.client import BaseClient

from engine.support import PlaneConfig

_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")
_CONTEXT_KEY = "stockade-test-role-arn"


@dataclass(frozen=True)
class Call:
    account: str | None
    role: str | None
    service: str
    operation: str
    stack: str | None


class RoleRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roles_by_key: dict[str, str] = {}
        self._calls: list[Call] = []

    def install(self, client: BaseClient, *, account: Any) -> None:
        service = client.meta.service_model.service_name
        if service == "sts":
            client.meta.events.register("before-call.sts.AssumeRole", self._asking)
            client.meta.events.register("after-call.sts.AssumeRole", self._answered)

        def record(request: Any, **_: Any) -> None:
            self._record(request, account=account(), service=service)

        client.meta.events.register("before-send", record)

    def calls(self, account: str) -> list[Call]:
        """Every call recorded in ``account``, in order."""
        with self._lock:
            return [c for c in self._calls if c.account == account]

    def _asking(self, params: Any, context: Any, **_: Any) -> None:
        context[_CONTEXT_KEY] = params["body"]["RoleArn"]

    def _answered(self, parsed: Any, context: Any, **_: Any) -> None:
        key = parsed.get("Credentials", {}).get("AccessKeyId")
        if key and _CONTEXT_KEY in context:
            with self._lock:
                self._roles_by_key[key] = str(context[_CONTEXT_KEY]).rsplit("/", 1)[-1]

    def _record(self, request: Any, *, account: str | None, service: str) -> None:
        header = request.headers.get("Authorization", b"")
        text = header.decode() if isinstance(header, bytes) else str(header)
        match = _CREDENTIAL.search(text)
        body = request.body or b""
        form = parse_qs(body.decode() if isinstance(body, bytes) else str(body))
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        operation = form.get("Action", [target.rsplit(".", 1)[-1]])[0]
        with self._lock:
            role = self._roles_by_key.get(match.group(1)) if match else None
            self._calls.append(
                Call(account, role, service, operation, form.get("StackName", [None])[0])
            )


RECORDER = RoleRecorder()
#: the default control plane (the example spec: LockAccessRole "true"), recording roles
NARROW_ROLES = PlaneConfig(client_hooks=(RECORDER,))
