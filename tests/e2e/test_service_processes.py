"""Each service as its own process: it starts, becomes ready, answers a request whose body never
arrives with 408, and exits cleanly on SIGTERM; with a bad setting it refuses to start and names
the variable; `--help` answers without starting anything; a port in use stops it at once, before
it connects to anything; SIGTERM stops it while it still waits for its dependencies (issue 19,
findings 5 and 11)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

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
    env = {
        **service_env,
        service.port_variable: str(port),
        f"{service.env_prefix}HTTP__BODY_TIMEOUT_S": "1",
    }
    proc = subprocess.Popen([sys.executable, "-m", service.package], env=env)  # noqa: S603 - our own module
    try:
        ready = _wait_ready(port, proc)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        slow = _body_that_never_arrives(port)
        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert ready.json()["status"] == "ready"
    assert metrics.status_code == 200
    assert slow.startswith(b"HTTP/1.1 408"), slow[:200]
    assert returncode == 0


def _body_that_never_arrives(port: int) -> bytes:
    """A request whose Content-Length promises 1 MB and whose body stops after 10 bytes: the
    service answers within its body timeout (1 s here) and closes the connection; before issue
    19 it held the connection for as long as the client kept it open."""
    head = b"POST /v1/anything HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN_S) as sock:
        sock.sendall(head + b"0123456789")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


# The test's own patience; the services' bounds under test are seconds.
ANSWER_WITHIN_S = 30.0
UNREACHABLE = {
    "HERALD_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
    "HERALD_MONGO_URI": "mongodb://127.0.0.1:9/",
    "HERALD_LOG_FORMAT": "json",
}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_help_answers_without_starting(service: Service) -> None:
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", service.package, "--help"],
        env={**os.environ, **UNREACHABLE},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {service.package}")
    assert service.port_variable in result.stdout
    assert "service.starting" not in result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_an_unknown_argument_is_refused_without_starting(service: Service) -> None:
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", service.package, "--port", "1"],
        env={**os.environ, **UNREACHABLE},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_a_port_in_use_stops_it_before_it_connects_to_anything(
    service: Service, service_env: dict[str, str], taken_port: int
) -> None:
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", service.package],
        env={**service_env, service.port_variable: str(taken_port)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    logged = result.stdout + result.stderr
    assert result.returncode == 4, logged[-2000:]
    assert "service.cannot_bind" in logged
    assert "Waiting for application startup" not in logged  # no lifespan: no consumer group


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_sigterm_stops_it_while_it_waits_for_its_dependencies(service: Service) -> None:
    env = {**os.environ, **UNREACHABLE, service.port_variable: str(free_port())}
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", service.package],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # until its start-up is under way
            lines.append(line)
            if "Waiting for application startup" in line:
                break
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=ANSWER_WITHIN_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, ("".join(lines) + rest)[-2000:]


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
