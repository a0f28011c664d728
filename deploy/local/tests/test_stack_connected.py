"""The stack on the real thing: `up` when up is a no-op; a taken port is one clear line;
the services run under honcho and `down` leaves none of them behind."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from herald_localstack import services, stack
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError
from herald_localstack.process import port_taken, processes_with_env
from herald_localstack.pytest_plugin import InfraEndpoints
from herald_localstack.secrets import StackSecrets

from .test_environments import holders, secrets_seen

pytestmark = pytest.mark.e2e


def _free_offset(base: StackConfig) -> int:
    """A service port offset at which all seven ports are free on this machine right now."""
    for offset in range(40, 2000, 37):
        candidate = dataclasses.replace(base, service_port_offset=offset)
        if not any(port_taken(services.port(candidate, s)) for s in services.SERVICES):
            return offset
    pytest.fail("no free range of service ports found")


@pytest.fixture
def cfg(infra: InfraEndpoints) -> StackConfig:
    del infra  # Kafka and FerretDB are up; this config points at them
    base = StackConfig.from_env()
    return dataclasses.replace(base, service_port_offset=_free_offset(base))


def test_up_when_already_up_is_a_no_op(cfg: StackConfig) -> None:
    report = stack.ensure_infra(cfg)
    assert report.started == []
    assert sorted(report.already_running) == ["ferretdb", "kafka", "postgres"]


def test_a_taken_port_is_reported_in_one_line(cfg: StackConfig, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        other = dataclasses.replace(cfg, run_dir=tmp_path / "run", kafka_port=port)
        with pytest.raises(StackError) as caught:
            stack.ensure_infra(other)
    assert str(caught.value).startswith(f"port {port} (Kafka) is already taken")
    assert "HERALD_STACK_KAFKA_PORT" in str(caught.value)


def test_services_come_up_ready_and_down_leaves_nothing(cfg: StackConfig, tmp_path: Path) -> None:
    own = dataclasses.replace(cfg, run_dir=tmp_path / "run")
    proc = services.start(own)
    try:
        assert proc.pid() is not None
        assert all(services.ready(services.port(own, s)) for s in services.SERVICES)
        running = processes_with_env(services.RUN_MARKER, str(own.run_dir))
        assert len(running) >= 7
        # Each process holds only the secrets it uses, honcho none (issue 19, finding 8).
        keys = StackSecrets.load_or_create(own.run_dir)
        seen = {_process_name(pid): secrets_seen(_environ(pid), keys) for pid in running}
        for service in services.SERVICES:
            uses = {secret for secret, names in holders(keys).items() if service.name in names}
            assert seen.pop(service.package) == uses, service.name
        assert all(not secrets for secrets in seen.values()), seen  # honcho and its shells
    finally:
        services.stop(own)
    assert processes_with_env(services.RUN_MARKER, str(own.run_dir)) == []
    assert not any(services.ready(services.port(own, s)) for s in services.SERVICES)


def test_a_namespaced_stack_takes_its_topics_away_and_never_the_shared_ones(
    cfg: StackConfig,
) -> None:
    """A namespace's ~360 partitions left on the shared broker added up until it could not open
    its files (20,000 at most here) and stopped starting."""
    own = dataclasses.replace(cfg, namespace=f"gone{uuid.uuid4().hex[:8]}", partitions=1)
    created, _ = stack.provision(own)
    assert created

    deleted = stack.unprovision(own)

    assert sorted(deleted) == sorted(created)
    left = asyncio.run(_topics(cfg.kafka_bootstrap))
    assert not [name for name in left if name.startswith(own.topic_prefix)]
    assert stack.unprovision(dataclasses.replace(cfg, namespace="")) == []


async def _topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(entry.partition("=")[::2] for entry in raw.split("\0") if entry)


def _process_name(pid: int) -> str:
    """The package a service process runs (`-m scheduler`), else its command line."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    return argv[argv.index("-m") + 1] if "-m" in argv else " ".join(argv)
