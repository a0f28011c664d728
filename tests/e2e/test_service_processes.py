"""Each service as its own process: it starts, becomes ready, and exits cleanly on SIGTERM;
with a bad setting it refuses to start and names the variable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from herald.testkit.servers import free_port
from herald_localstack.pytest_plugin import InfraEndpoints
from herald_localstack.services import SERVICES, Service

pytestmark = pytest.mark.e2e


@pytest.fixture
def service_env(infra: InfraEndpoints) -> dict[str, str]:
    return {
        **os.environ,
        "HERALD_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "HERALD_MONGO_URI": infra.mongo_uri,
        "HERALD_LOG_FORMAT": "json",
    }


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited early with {proc.returncode}"
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            return response
        time.sleep(0.2)
    pytest.fail(f"not ready on port {port} within {timeout_s}s")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_starts_is_ready_and_stops_cleanly_on_sigterm(
    service: Service, service_env: dict[str, str]
) -> None:
    port = free_port()
    env = {**service_env, service.port_variable: str(port)}
    proc = subprocess.Popen([sys.executable, "-m", service.package], env=env)  # noqa: S603 - our own module
    try:
        ready = _wait_ready(port, proc)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert ready.json()["status"] == "ready"
    assert metrics.status_code == 200
    assert returncode == 0


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_refuses_to_start_with_a_bad_setting(service: Service) -> None:
    variable = service.port_variable
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", service.package],
        env={**os.environ, variable: "not-a-port"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{variable}: Input should be a valid integer" in result.stderr
    assert "refusing to start" in result.stderr
