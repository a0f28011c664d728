"""A whole Herald as separate processes on the shared Kafka and FerretDB, namespaced, with the
sandbox's accounts connected through OAuth: what the chaos tests kill parts of."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald_localstack import demo, services
from herald_localstack import stack as stack_module
from herald_localstack.config import StackConfig
from herald_localstack.process import port_taken
from herald_localstack.pytest_plugin import InfraEndpoints
from herald_localstack.secrets import StackSecrets
from herald_localstack.system import System


@dataclass
class Connected:
    system: System
    api_key: str
    integrations: dict[str, str]

    def post(self, body: dict[str, object], *, idempotency_key: str) -> str:
        response = httpx.post(
            f"{self.system.url('scheduler')}/v1/posts",
            json=body,
            headers={"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": idempotency_key},
            timeout=30,
        )
        assert response.status_code in (200, 201), response.text
        post_id: str = response.json()["post_id"]
        return post_id

    def status(self, post_id: str) -> dict[str, object]:
        response = httpx.get(
            f"{self.system.url('scheduler')}/v1/posts/{post_id}",
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    def sandbox(self, path: str, **params: str) -> dict[str, Any]:
        url = f"{self.system.url('platform-sandbox')}{path}"
        response = httpx.get(url, params=params, timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _free_offset(base: StackConfig) -> int:
    for offset in range(500, 4000, 43):
        candidate = dataclasses.replace(base, service_port_offset=offset)
        if not any(port_taken(services.port(candidate, s)) for s in services.SERVICES):
            return offset
    pytest.fail("no free range of service ports found")


@pytest.fixture(scope="session")
def connected(
    infra: InfraEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Connected]:
    del infra
    base = StackConfig.from_env()
    run_dir: Path = tmp_path_factory.mktemp("chaos")
    cfg = dataclasses.replace(
        base,
        run_dir=run_dir,
        service_port_offset=_free_offset(base),
        namespace=f"chaos{uuid.uuid4().hex[:8]}",
    )
    stack_module.provision(cfg)
    system = System(cfg)
    # Instagram allows 50 API publishes a day per account (the sandbox's default, as documented);
    # a chaos run publishes hundreds to one account, so this sandbox allows more.
    system.start(
        "platform-sandbox", extra_env={"HERALD_SANDBOX_INSTAGRAM__PUBLISH_QUOTA_TOTAL": "100000"}
    )
    for service in services.SERVICES:
        if service.name != "platform-sandbox":
            system.start(service.name)
    try:
        keys = StackSecrets.load_or_create(cfg.run_dir)
        auth = system.url("auth-service")
        with httpx.Client(timeout=30) as http:
            made = demo.ensure_business(
                http, run_dir / "demo.json", auth, keys.admin_token, lambda _: None
            )
            integrations = {p: demo.connect(http, auth, made.api_key, p) for p in demo.PROVIDERS}
        yield Connected(system, made.api_key, integrations)
    finally:
        system.stop_all()
