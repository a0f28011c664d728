"""Prometheus metrics of auth-service, on the app's own registry (served at `/metrics`).

- `herald_auth_token_refresh_total{provider,outcome}`: refreshed, checked, expired,
  failed_transient, failed_throttled, failed_permanent;
- `herald_auth_oauth_callbacks_total{provider,outcome}`: connected or the refusal code;
- `herald_auth_integrations{provider,status}`: stored integrations by status (each loop pass);
- `herald_auth_vault_records{kid}`: sealed token records (one per field) under each key id.
No ids as labels.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from herald.events import IntegrationStatus
from herald.topics import Platform


class PrometheusMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._refresh = Counter(
            "herald_auth_token_refresh_total",
            "Token refresh and check outcomes.",
            ["provider", "outcome"],
            registry=registry,
        )
        self._callback = Counter(
            "herald_auth_oauth_callbacks_total",
            "OAuth callback outcomes.",
            ["provider", "outcome"],
            registry=registry,
        )
        self._integrations = Gauge(
            "herald_auth_integrations",
            "Integrations by provider and stored status.",
            ["provider", "status"],
            registry=registry,
        )
        self._vault = Gauge(
            "herald_auth_vault_records",
            "Sealed token records (one per field) under each key id.",
            ["kid"],
            registry=registry,
        )

    def refresh(self, provider: str, outcome: str) -> None:
        self._refresh.labels(provider, outcome).inc()

    def callback(self, provider: str, outcome: str) -> None:
        self._callback.labels(provider, outcome).inc()

    def integrations(self, counts: Mapping[tuple[str, str], int]) -> None:
        for platform in Platform:
            for status in IntegrationStatus:
                value = counts.get((platform.value, status.value), 0)
                self._integrations.labels(platform.value, status.value).set(value)

    def vault_records(self, counts: Mapping[str, int]) -> None:
        self._vault.clear()
        for kid, value in counts.items():
            self._vault.labels(kid).set(value)
