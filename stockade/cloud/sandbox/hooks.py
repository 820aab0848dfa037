"""Client-side realism for sandbox clients: account routing, latency and AWS's throttling.

``SandboxHooks.install(client, account=...)`` registers one handler on the client's
``before-send`` event (botocore emits it per attempt, after signing, just before the HTTP send);
``account()`` names the account the request acts in (one client serves every tenant account):

- it adds ``x-moto-account-id`` so moto acts in that account without scanning every account's
  access keys (what keeps the sandbox fast at thousands of accounts);
- it waits as long as AWS would take to answer (``latency``, divided by ``time_scale``);
- with ``enforce_quotas`` it keeps AWS's token bucket per (account, service, operation) and,
  when the bucket is empty, answers in AWS's place with AWS's own throttling error for that
  protocol, without sending anything. boto3 raises the same ``ClientError`` and botocore's retry
  handler treats it exactly as it treats AWS's;
- ``inject_throttling`` makes the next N calls of one operation (any account) throttled the
  same way, whatever the buckets say (and whether quotas are enforced or not), so tests can
  check that throttling is retried and never fails a workflow.

Quotas: pass AWS's *unscaled* ``QuotaTable`` (``domain.quotas.DEFAULT_QUOTAS``); the hooks
scale it (listed and default quotas alike) by ``time_scale`` themselves. Services and operations are
named as in botocore's event names (``service_id`` hyphenized: ``organizations``, ``sts``,
``cloudformation``, ``iam``), the names ``QuotaTable`` uses.

Who calls it: the composition root and the sandbox session factory install it on every boto3
client that talks to the sandbox; ``cloud.budget`` (the engine's waiting side, on
``before-call``) is separate and unaware of it.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal, cast

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.client import BaseClient
from botocore.compat import HTTPHeaders

from stockade.domain.quotas import QuotaTable
from stockade.domain.ratelimit import TokenBucket

LatencyProfile = Literal["off", "fast", "aws-like"]

#: typical AWS response times in seconds (before time scaling), by botocore service name
AWS_LATENCY: dict[str, float] = {"organizations": 0.150, "sts": 0.050, "cloudformation": 0.200}
AWS_LATENCY_DEFAULT = 0.080
#: share of the typical latency added or removed at random
JITTER = 0.2
#: the "fast" profile: a few milliseconds whatever the time scale (shakes out ordering bugs)
FAST_LATENCY = (0.001, 0.004)

ACCOUNT_HEADER = "x-moto-account-id"
THROTTLE_MESSAGE = "Rate exceeded"


class _RawBody:
    """What ``AWSResponse.raw`` must offer botocore: a ``stream()`` of the body."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_kwargs: Any) -> Any:
        yield self._data


def throttling_response(protocol: str, code: str, url: str) -> AWSResponse:
    """The HTTP response AWS sends when it throttles a call, in the service's protocol."""
    request_id = str(uuid.uuid4())
    if protocol not in ("query", "ec2", "rest-xml"):  # json, rest-json (rpc-v2-cbor: unsupported)
        body = f'{{"__type":"{code}","Message":"{THROTTLE_MESSAGE}"}}'.encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": code,
        }
    else:
        error = f"<Code>{code}</Code><Message>{THROTTLE_MESSAGE}</Message>"
        if protocol == "ec2":
            xml = (
                f"<Response><Errors><Error>{error}</Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>"
            )
        elif protocol == "rest-xml":
            xml = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
        else:  # query
            xml = (
                f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
        body = xml.encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    headers["Content-Length"] = str(len(body))
    http_headers = HTTPHeaders()
    for name, value in headers.items():
        http_headers[name] = value
    return AWSResponse(url, 400, http_headers, _RawBody(body))


class SandboxHooks:
    """Latency and quota enforcement for boto3 clients of the sandbox; thread-safe."""

    def __init__(
        self,
        quotas: QuotaTable,
        time_scale: float,
        latency: LatencyProfile,
        enforce_quotas: bool,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._quotas = quotas.scaled(time_scale)
        self._time_scale = time_scale
        self._latency = latency
        self._enforce = enforce_quotas
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._throttled: dict[str, int] = {}
        #: (service, operation) -> calls still to throttle, from ``inject_throttling``
        self._injected: dict[tuple[str, str], int] = {}
        self._calls = 0

    @property
    def calls(self) -> int:
        """Attempts seen (retries included), throttled or not."""
        with self._lock:
            return self._calls

    @property
    def throttled(self) -> dict[str, int]:
        """Attempts refused, by ``"<service>.<Operation>"`` (a snapshot)."""
        with self._lock:
            return dict(self._throttled)

    def inject_throttling(self, service: str, operation: str, count: int) -> None:
        """Throttle the next ``count`` calls of ``operation`` (any account, any client).

        ``service`` and ``operation`` are named as in botocore's event names (``organizations``,
        ``CreateAccount``). Each refused attempt gets AWS's throttling error for the service's
        protocol and is counted in ``throttled``, exactly as a quota refusal; it takes no token
        from the operation's bucket. Repeated injections add up.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("count must be a non-negative integer")
        if count == 0:
            return
        key = (service, operation)
        with self._lock:
            self._injected[key] = self._injected.get(key, 0) + count

    def install(self, client: BaseClient, *, account: Callable[[], str | None]) -> None:
        """Register the hooks on this client only (its own copy of the event system).
        ``account`` says which account a request acts in (None: the management account); it
        is called per request, as one client serves every tenant account."""
        model = client.meta.service_model
        service = model.service_id.hyphenize()
        protocol = str(getattr(model, "resolved_protocol", None) or model.protocol)

        def before_send(
            request: AWSPreparedRequest, event_name: str, **_: Any
        ) -> AWSResponse | None:
            operation = event_name.rsplit(".", 1)[-1]
            account_id = account()
            if account_id is not None:
                request.headers[ACCOUNT_HEADER] = account_id
            refused = not self._admit(account_id or "-", service, operation)
            delay = self._delay(service)
            if delay > 0:
                self._sleep(delay)
            if refused:
                code = self._quotas.get(service, operation).throttle_code
                return throttling_response(protocol, code, request.url)
            return None

        # botocore's stubs type handlers as returning None; before-send may return a response
        client.meta.events.register(f"before-send.{service}", cast(Any, before_send))

    def _admit(self, account: str, service: str, operation: str) -> bool:
        with self._lock:
            self._calls += 1
            if self._take_injected(service, operation) or not self._bucket_admits(
                account, service, operation
            ):
                name = f"{service}.{operation}"
                self._throttled[name] = self._throttled.get(name, 0) + 1
                return False
            return True

    def _take_injected(self, service: str, operation: str) -> bool:
        """Use up one injected throttle for this operation, if any is left (lock held)."""
        key = (service, operation)
        left = self._injected.get(key, 0)
        if left <= 0:
            return False
        if left == 1:
            del self._injected[key]
        else:
            self._injected[key] = left - 1
        return True

    def _bucket_admits(self, account: str, service: str, operation: str) -> bool:
        """Take a token from the operation's bucket if quotas are enforced (lock held)."""
        if not self._enforce:
            return True
        key = (account, service, operation)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            quota = self._quotas.get(service, operation)
            bucket = TokenBucket.full(quota.rate, float(quota.burst), now)
            self._buckets[key] = bucket
        return bucket.try_take(now)

    def _delay(self, service: str) -> float:
        if self._latency == "off":
            return 0.0
        with self._lock:  # random.Random is not safe to share between threads unlocked
            if self._latency == "fast":
                return self._rng.uniform(*FAST_LATENCY)
            typical = AWS_LATENCY.get(service, AWS_LATENCY_DEFAULT)
            return typical * self._rng.uniform(1 - JITTER, 1 + JITTER) / self._time_scale
