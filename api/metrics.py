"""A small Prometheus text endpoint: request counts and latency by outcome."""

from __future__ import annotations

import time
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Label values come from the client: keep them to a fixed set (bounded series).
METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.buckets: Counter[float] = Counter()
        self.latency_sum = 0.0
        self.latency_count = 0

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests[(method, path, status)] += 1
        self.latency_sum += seconds
        self.latency_count += 1
        for bound in BUCKETS:
            if seconds <= bound:
                self.buckets[bound] += 1

    def render(self) -> str:
        lines = [
            "# HELP mutual_http_requests_total HTTP requests by method, path, status.",
            "# TYPE mutual_http_requests_total counter",
        ]
        for (method, path, status), n in sorted(self.requests.items()):
            lines.append(
                f'mutual_http_requests_total{{method="{method}",path="{path}",'
                f'status="{status}"}} {n}'
            )
        lines += [
            "# HELP mutual_http_request_seconds Request latency.",
            "# TYPE mutual_http_request_seconds histogram",
        ]
        for bound in BUCKETS:
            count = self.buckets[bound]
            lines.append(f'mutual_http_request_seconds_bucket{{le="{bound}"}} {count}')
        lines.append(
            f'mutual_http_request_seconds_bucket{{le="+Inf"}} {self.latency_count}'
        )
        lines.append(f"mutual_http_request_seconds_sum {self.latency_sum:.6f}")
        lines.append(f"mutual_http_request_seconds_count {self.latency_count}")
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    KNOWN = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            path = scope["path"] if scope["path"] in self.KNOWN else "other"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.metrics.observe(method, path, status, time.perf_counter() - start)
