"""Closed-loop HTTP load: N keep-alive clients, bounded in time and in count."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson

from bench.scenarios import Scenario
from bench.server import HOST


class Target(Protocol):
    """A server under load: Mutual (bench.server) or the peer (bench.peer)."""

    url: str
    label: str
    workers: int

    def cpu_seconds(self) -> float: ...


@dataclass
class Run:
    """What one scenario did at one concurrency, on one server, in one round."""

    scenario: str
    concurrency: int
    target: str = "Mutual"
    requests: int = 0
    errors: int = 0
    first_error: str | None = None
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    shape: str | None = None

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in ms."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    def summary(self) -> dict[str, Any]:
        n = self.requests or 1
        return {
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "server": self.target,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.throughput, 2),
            "p50_ms": round(self.percentile(50), 2),
            "p90_ms": round(self.percentile(90), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 2),
            "errors": self.errors,
            "first_error": self.first_error,
            "server_cpu_ms_per_request": round(1000 * self.server_cpu_seconds / n, 3),
            "client_cpu_ms_per_request": round(1000 * self.client_cpu_seconds / n, 3),
            "response": self.shape,
        }


@dataclass
class Measured:
    """One scenario at one concurrency on one server over its rounds: medians of
    throughput, latency percentiles and CPU per request; errors summed."""

    rounds: list[Run]

    @property
    def scenario(self) -> str:
        return self.rounds[0].scenario

    @property
    def concurrency(self) -> int:
        return self.rounds[0].concurrency

    @property
    def target(self) -> str:
        return self.rounds[0].target

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.rounds)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)

    @property
    def first_error(self) -> str | None:
        return next((r.first_error for r in self.rounds if r.first_error), None)

    @property
    def shape(self) -> str | None:
        return self.rounds[0].shape

    @property
    def throughput(self) -> float:
        return statistics.median(r.throughput for r in self.rounds)

    def percentile(self, q: float) -> float:
        return statistics.median(r.percentile(q) for r in self.rounds)

    @property
    def server_cpu_ms_per_request(self) -> float:
        return statistics.median(
            1000 * r.server_cpu_seconds / (r.requests or 1) for r in self.rounds
        )

    def summary(self) -> dict[str, Any]:
        out = self.rounds[0].summary() if len(self.rounds) == 1 else {}
        out.update(
            {
                "scenario": self.scenario,
                "concurrency": self.concurrency,
                "server": self.target,
                "rounds": len(self.rounds),
                "requests": self.requests,
                "requests_per_second": round(self.throughput, 2),
                "p50_ms": round(self.percentile(50), 2),
                "p90_ms": round(self.percentile(90), 2),
                "p99_ms": round(self.percentile(99), 2),
                "errors": self.errors,
                "first_error": self.first_error,
                "server_cpu_ms_per_request": round(self.server_cpu_ms_per_request, 3),
                "response": self.shape,
            }
        )
        if len(self.rounds) > 1:
            out["per_round"] = [r.summary() for r in self.rounds]
        return out


class Loader:
    """Posts one scenario's operations to /graphql and checks every response."""

    def __init__(self, server: Target, token: str | None) -> None:
        if not server.url.startswith(f"http://{HOST}:"):
            raise ValueError("the load goes to the loopback address only")
        self.server = server
        self.endpoint = f"{server.url}/graphql"
        self.headers = {"Content-Type": "application/json"}
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def client(self, concurrency: int) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency
        )
        return httpx.AsyncClient(
            limits=limits, timeout=60.0, trust_env=False, headers=self.headers
        )

    async def post(
        self, client: httpx.AsyncClient, scenario: Scenario, rng: random.Random
    ) -> tuple[float, str | None, dict[str, Any] | None]:
        """(latency in ms, error or None, decoded body) of one request."""
        body = orjson.dumps(
            {"query": scenario.document, "variables": scenario.variables(rng)}
        )
        started = time.perf_counter()
        try:
            response = await client.post(self.endpoint, content=body)
        except httpx.HTTPError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            return elapsed, f"{type(exc).__name__}: {exc}", None
        elapsed = (time.perf_counter() - started) * 1000
        try:
            decoded = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return elapsed, f"HTTP {response.status_code}: {response.text[:300]}", None
        if response.status_code != 200:
            return elapsed, f"HTTP {response.status_code}: {str(decoded)[:300]}", None
        return elapsed, scenario.check(decoded), decoded

    async def probe(
        self, scenario: Scenario, rng: random.Random
    ) -> tuple[str, str, dict[str, Any] | None]:
        """One request before the load: (error or "", what the response held, body)."""
        async with self.client(1) as client:
            _, error, body = await self.post(client, scenario, rng)
        shape = scenario.shape(body) if scenario.shape and body else ""
        return error or "", shape, body

    async def run(
        self,
        scenario: Scenario,
        *,
        concurrency: int,
        duration: float,
        warmup: float,
        max_requests: int,
        seed: int,
    ) -> Run:
        result = Run(scenario.name, concurrency, self.server.label)
        async with self.client(concurrency) as client:
            # Warm-up: connections opened, caches filled; nothing recorded.
            await self._phase(
                client, scenario, concurrency, warmup, max_requests, seed, None
            )
            cpu_server, cpu_client = self.server.cpu_seconds(), time.process_time()
            started = time.perf_counter()
            await self._phase(
                client, scenario, concurrency, duration, max_requests, seed + 1, result
            )
            result.seconds = time.perf_counter() - started
            result.server_cpu_seconds = self.server.cpu_seconds() - cpu_server
            result.client_cpu_seconds = time.process_time() - cpu_client
        return result

    async def _phase(
        self,
        client: httpx.AsyncClient,
        scenario: Scenario,
        concurrency: int,
        duration: float,
        max_requests: int,
        seed: int,
        result: Run | None,
    ) -> None:
        deadline = time.perf_counter() + duration
        sent = 0

        async def worker(index: int) -> None:
            nonlocal sent
            rng = random.Random(seed * 1000 + index)
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                latency, error, _ = await self.post(client, scenario, rng)
                if result is None:
                    continue
                result.requests += 1
                result.latencies_ms.append(latency)
                if error is not None:
                    result.errors += 1
                    result.first_error = result.first_error or error

        if duration > 0:
            await asyncio.gather(*(worker(i) for i in range(concurrency)))
