"""Metrics every Herald process serves besides its own (docs/metrics.md lists them all; ADR 0015).

- `install_process_metrics`: `process_*` and `python_*` (prometheus_client's collectors) and
  `herald_build_info{service,version,commit}`, on the registry each app serves at `/metrics`.
- `RequestMetrics`: `herald_http_requests_total{method,route,status}` and
  `herald_http_request_seconds{method,route}` for every HTTP request but the operational routes,
  by route template (`unmatched` for a path no route took).
- `PlatformCalls`: `herald_platform_requests_total{platform,endpoint,outcome}` and
  `herald_platform_request_seconds{platform,endpoint}`, every publisher's calls to its platform
  (the Graph client's and TikTok's), by endpoint template.
- `UnexpectedErrors`: the one family for work put back after an unexpected error, whichever
  service (`herald_unexpected_errors_total{service,stage}`).
- `ConsumerLag`: `herald_kafka_consumer_lag{group,topic,partition}`, messages not yet taken by
  this process's consumers, for the partitions assigned to them. Each replica reports the
  partitions it owns, so `sum by (group)` over replicas counts each partition once. KEDA scales
  the publishers on the same lag as the broker sees it (its own Kafka scaler, ADR 0013): these
  series are for dashboards and alerts.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald import __version__
from herald.stopping import cancel_and_wait

log = structlog.get_logger(__name__)

COMMIT_VARIABLE = "HERALD_BUILD_COMMIT"  # set by the image build (or the local stack)
LAG = "herald_kafka_consumer_lag"
LAG_LABELS = ("group", "topic", "partition")
LAG_HELP = (
    "Messages in a partition not yet taken by its consumer in this process (log end offset "
    "minus position), for the partitions assigned to this process."
)
LAG_REFRESH_S = 5.0


def build_version(service: str) -> str:
    """The installed version of the service's distribution (herald's for anything else)."""
    try:
        return metadata.version(service)
    except metadata.PackageNotFoundError:
        return __version__


def install_process_metrics(registry: CollectorRegistry, service: str) -> None:
    """`process_*`, `python_*` and `herald_build_info` on `registry`."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    info = Gauge(
        "herald_build_info",
        "Always 1: the service, its version and the commit it was built from.",
        ["service", "version", "commit"],
        registry=registry,
    )
    commit = os.environ.get(COMMIT_VARIABLE) or "unknown"
    info.labels(service, build_version(service), commit).set(1)


class RequestMetrics:
    """Counts and times requests by method, route template and status. A plain ASGI
    middleware: Starlette's `BaseHTTPMiddleware` would run each request through an extra task."""

    def __init__(
        self, app: ASGIApp, instruments: tuple[Counter, Histogram], skip: frozenset[str]
    ) -> None:
        self._app = app
        self._skip = skip
        self._requests, self._seconds = instruments

    @staticmethod
    def instruments(registry: CollectorRegistry) -> tuple[Counter, Histogram]:
        """The families, made when the app is (Starlette builds middleware at the first
        request, and `/metrics` lists them before that)."""
        requests = Counter(
            "herald_http_requests_total",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        seconds = Histogram(
            "herald_http_request_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        return requests, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self._skip:
            await self._app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = str(scope.get("method", ""))
            self._requests.labels(method, route, str(status)).inc()
            self._seconds.labels(method, route).observe(time.perf_counter() - began)


@dataclass(frozen=True)
class PlatformCalls:
    """Calls to a platform's API by endpoint template (never an id or a query) and outcome: `ok`
    or the error's category (`ambiguous` where the call may have taken effect)."""

    requests: Counter
    seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> PlatformCalls:
        return cls(
            requests=Counter(
                "herald_platform_requests_total",
                "Platform API calls by endpoint template and outcome (ok or an error category).",
                ["platform", "endpoint", "outcome"],
                registry=registry,
            ),
            seconds=Histogram(
                "herald_platform_request_seconds",
                "Duration of platform API calls by endpoint template.",
                ["platform", "endpoint"],
                buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                registry=registry,
            ),
        )

    def observe(self, platform: str, endpoint: str, outcome: str, began: float) -> None:
        """One call that started at `began` (`time.perf_counter()`) ended with `outcome`."""
        self.requests.labels(platform, endpoint, outcome).inc()
        self.seconds.labels(platform, endpoint).observe(time.perf_counter() - began)


class UnexpectedErrors:
    """`herald_unexpected_errors_total{service,stage}`, one service's share: `labels(stage)`."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self._service = service
        self._counter = Counter(
            "herald_unexpected_errors_total",
            "Messages put back for redelivery, or passes of a loop that failed, after an "
            "unexpected error (nothing was lost), by service and stage.",
            ["service", "stage"],
            registry=registry,
        )

    def labels(self, stage: str) -> Any:
        return self._counter.labels(self._service, stage)


class ConsumerLag(Collector):
    """`herald_kafka_consumer_lag` from a FastStream broker's consumers, refreshed by `run`."""

    def __init__(self, broker: Any, registry: CollectorRegistry | None = None) -> None:
        self._broker = broker
        self._lag: dict[tuple[str, str, int], int] = {}
        if registry is not None:
            registry.register(self)

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(LAG, LAG_HELP, labels=LAG_LABELS)]

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(LAG, LAG_HELP, labels=LAG_LABELS)
        for (group, topic, partition), lag in sorted(self._lag.items()):
            family.add_metric([group, topic, str(partition)], lag)
        yield family

    def consumers(self) -> Iterator[tuple[str, Any]]:
        """(group, aiokafka consumer) of every running subscriber of the broker."""
        for subscriber in self._broker.subscribers:
            group = getattr(subscriber, "group_id", None) or ""
            many = list(getattr(subscriber, "consumer_subgroup", None) or [])
            one = getattr(subscriber, "consumer", None)
            for consumer in many or ([one] if one is not None else []):
                yield group, consumer

    async def refresh(self) -> None:
        lag: dict[tuple[str, str, int], int] = {}
        for group, consumer in self.consumers():
            for partition in list(consumer.assignment()):
                high = consumer.highwater(partition)
                if high is None:
                    continue  # nothing fetched yet
                try:  # local unless the position is being reset; never wait long for it
                    position = await asyncio.wait_for(consumer.position(partition), 1.0)
                except Exception as exc:  # noqa: BLE001 - revoked or resetting: next round
                    log.debug("consumer_lag.no_position", partition=str(partition), error=repr(exc))
                else:
                    lag[(group, partition.topic, partition.partition)] = max(high - position, 0)
        self._lag = lag

    async def run(self, every_s: float = LAG_REFRESH_S) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # a broker in flux must not end the refresh for good
                log.exception("consumer_lag.refresh_failed")
            await asyncio.sleep(every_s)


async def stop(task: asyncio.Task[None] | None) -> None:
    await cancel_and_wait(task)
