"""`make up` as a user meets it: every service as a process on real Kafka and FerretDB, accounts
connected through the real OAuth flows on the sandbox, a post published to Facebook and Instagram,
exactly one visible publish per target on the sandbox's ledger, and the console's demo owner,
whose printed email and password sign in."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from herald_localstack import demo, services
from herald_localstack import stack as stack_module
from herald_localstack.config import StackConfig
from herald_localstack.process import port_taken
from herald_localstack.pytest_plugin import InfraEndpoints

pytestmark = pytest.mark.e2e


def _free_offset(base: StackConfig) -> int:
    for offset in range(300, 3000, 41):
        candidate = dataclasses.replace(base, service_port_offset=offset)
        if not any(port_taken(services.port(candidate, s)) for s in services.SERVICES):
            return offset
    pytest.fail("no free range of service ports found")


@pytest.fixture
def stack(infra: InfraEndpoints, tmp_path: Path) -> Iterator[StackConfig]:
    del infra  # Kafka and FerretDB are running; the services get their own run folder and ports
    base = StackConfig.from_env()
    cfg = dataclasses.replace(
        base,
        run_dir=tmp_path / "run",
        service_port_offset=_free_offset(base),
        namespace=f"e2e{uuid.uuid4().hex[:8]}",  # its own databases and topics
    )
    stack_module.provision(cfg)
    services.start(cfg)
    try:
        yield cfg
    finally:
        services.stop(cfg)
        stack_module.unprovision(cfg)  # its ~360 partitions would stay on the shared broker


def test_the_demo_connects_four_accounts_and_publishes_once_per_target(stack: StackConfig) -> None:
    lines: list[str] = []
    result = demo.run(stack, lines.append)

    assert set(result.integrations) == {"facebook", "instagram", "whatsapp", "tiktok"}
    assert any("facebook   published" in line for line in lines)
    assert any("instagram  published" in line for line in lines)
    sandbox = services.url(stack, "platform-sandbox")
    # This stack's sandbox is fresh: its ledger holds exactly the demo's visible side effects.
    ledger = httpx.get(f"{sandbox}/_sandbox/ledger", timeout=10).json()
    assert sorted((e["platform"], e["kind"]) for e in ledger["entries"]) == [
        ("facebook", "photo_published"),
        ("instagram", "media_published"),
    ]
    assert httpx.get(f"{sandbox}/_sandbox/ledger/duplicates", timeout=10).json() == {
        "duplicates": {}
    }
    # The console's demo user: printed, and an owner of the demo's business (ADR 0024).
    said = f"sign in as {result.owner_email} with the password {result.owner_password}"
    assert any(said in line for line in lines), lines
    auth = services.url(stack, "auth-service")
    body = {"email": result.owner_email, "password": result.owner_password}
    signed = httpx.post(f"{auth}/v1/sessions", json=body, timeout=30)
    assert signed.status_code == 201, signed.text
    assert (signed.json()["business_id"], signed.json()["role"]) == (result.business_id, "owner")
