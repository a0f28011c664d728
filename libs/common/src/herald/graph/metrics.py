"""Prometheus metrics of Graph calls (`herald_` names, base units, endpoint templates, no ids):
the calls every publisher counts (`herald.metrics.PlatformCalls`) and Graph's usage headers."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from herald.metrics import PlatformCalls


@dataclass(frozen=True)
class GraphMetrics:
    requests: Counter
    seconds: Histogram
    usage: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> GraphMetrics:
        calls = PlatformCalls.create(registry)
        return cls(
            requests=calls.requests,
            seconds=calls.seconds,
            usage=Gauge(
                "herald_platform_usage_ratio",
                "Share of a platform rate limit in use (1 = throttled), by limit kind.",
                ["platform", "kind"],
                registry=registry,
            ),
        )
