"""Prometheus metrics of the API itself: request counts and latency by route template.

Each app owns its own ``CollectorRegistry`` (never the process-global one), so several apps in
one process (tests, benchmarks) do not share or clash on counters. Routes are labelled by their
path template (``/api/v1/tenants/{tenant_id}``), never by the raw path, to keep label
cardinality bounded.

Who calls it: ``stockade.api.app`` (creates ``ApiMetrics``, installs ``MetricsMiddleware`` and
serves ``GET /metrics``).
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockade.api.access import ROUTE_SCOPE_KEY, UNMATCHED_ROUTE


class ApiMetrics:
    """The API's collectors, registered in a registry of their own."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "stockade_api_requests",
            "HTTP requests answered by the Stockade API",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "stockade_api_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ("method", "route"),
            registry=self.registry,
        )

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """ASGI middleware timing every HTTP request (including rejected ones)."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before answering, the server answers 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            self.metrics.observe(
                method=scope["method"],
                route=str(scope.get(ROUTE_SCOPE_KEY, UNMATCHED_ROUTE)),
                status=status,
                seconds=time.perf_counter() - started,
            )
