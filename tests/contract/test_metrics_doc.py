"""docs/metrics.md lists exactly what the services' registries serve (`herald_localstack.
metricsdoc`); the e2e Prometheus test checks the same page against the running processes."""

from __future__ import annotations

import pytest

from herald_localstack import metricsdoc

pytestmark = pytest.mark.unit


def test_the_metrics_page_matches_the_services() -> None:
    assert metricsdoc.check(), "run: python -m herald_localstack.metricsdoc write"


def test_every_service_serves_process_and_build_metrics_and_one_unexpected_errors_family() -> None:
    served = metricsdoc.served()
    for service, families in served.items():
        names = {f.name for f in families}
        assert {"process_cpu_seconds_total", "python_info", "herald_build_info"} <= names, service
    every = {f.name for families in served.values() for f in families}
    assert "herald_scheduler_unexpected_errors_total" not in every
    consumers = {
        s for s, fs in served.items() if "herald_kafka_consumer_lag" in {f.name for f in fs}
    }
    assert {"scheduler", "publisher-facebook", "publisher-whatsapp"} <= consumers
