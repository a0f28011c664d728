"""A whole Herald as separate processes on the shared Kafka and FerretDB, namespaced, with the
sandbox's accounts connected through OAuth: what the chaos tests kill parts of."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
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
    # What each service was started with beyond `services.environment`; `start` uses it again.
    extra_env: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def start(self, name: str) -> None:
        """(Re)start a service with the settings this session gave it."""
        self.system.start(name, extra_env=self.extra_env.get(name))

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


def _extra_env(sandbox: str) -> dict[str, dict[str, str]]:
    """Settings the tests need beyond what `make up` gives each service.

    Instagram allows 50 API publishes and 400 containers a day per account and TikTok 15 posts a
    day per creator and 6 inits a minute per token (the sandbox's defaults, as documented); a
    chaos run publishes hundreds (the full fleet run thousands) to one account, so this sandbox
    allows more, and publisher-tiktok's own limiter keeps the same figures. A killed publisher's
    lease on the target it was handling keeps the next process off it for `lease_s` (300 s by
    default, sized for uploads of gigabytes); the test media take seconds, so the Facebook,
    Instagram and TikTok publishers' leases last 60 s here (a chaos run's last kills must be
    recoverable within its wait). Media under the sandbox's address spelled `localhost` counts
    as a URL prefix verified for the TikTok app (pulled by TikTok: PULL_FROM_URL videos and
    photos), while the same media at `127.0.0.1` is uploaded; the sandbox serves http, so TikTok
    photo URLs may be http (scheduler and publisher alike). The insights jobs follow the
    sandbox's clock and look every 5 s, so a test that advances it by a day sees the 1 h and
    24 h snapshots taken, and the account insights jobs the day that ended (ADR 0020). The
    console keeps its default zone, UTC: the browser tests' business has its own, Europe/Berlin
    (a zone with daylight saving, set by its owner), so they see times converted by the
    business's zone, not the console's (tests/e2e/test_console.py).
    """
    verified = json.dumps([sandbox.replace("127.0.0.1", "localhost") + "/_sandbox/media/"])
    schemes = json.dumps(["https", "http"])
    per_minute = {"CREATOR_INFO": "600", "INIT": "600", "STATUS": "600"}
    insights = {
        "INSIGHTS__CLOCK_URL": f"{sandbox}/_sandbox/clock",
        "INSIGHTS__INTERVAL_S": "5",
        "ACCOUNT_INSIGHTS__INTERVAL_S": "5",
    }
    return {
        "platform-sandbox": {
            "HERALD_SANDBOX_INSTAGRAM__PUBLISH_QUOTA_TOTAL": "100000",
            "HERALD_SANDBOX_INSTAGRAM__CONTAINER_CAP": "100000",
            "HERALD_SANDBOX_TIKTOK__DAILY_POST_CAP": "100000",
            "HERALD_SANDBOX_TIKTOK__VERIFIED_URL_PREFIXES": verified,
            **{f"HERALD_SANDBOX_TIKTOK__{k}_PER_MINUTE": v for k, v in per_minute.items()},
        },
        "scheduler": {
            "HERALD_SCHEDULER_RULES__TIKTOK_PHOTO_URL_SCHEMES": schemes,
            **{f"HERALD_SCHEDULER_WEBHOOKS__{k}": v for k, v in WEBHOOKS.items()},
        },
        "publisher-facebook": {
            "HERALD_PUBLISHER_FACEBOOK_LEASE_S": "60",
            **{f"HERALD_PUBLISHER_FACEBOOK_{k}": v for k, v in insights.items()},
        },
        "publisher-instagram": {
            "HERALD_PUBLISHER_INSTAGRAM_LEASE_S": "60",
            **{f"HERALD_PUBLISHER_INSTAGRAM_{k}": v for k, v in insights.items()},
        },
        "publisher-tiktok": {
            "HERALD_PUBLISHER_TIKTOK_LEASE_S": "60",
            **{f"HERALD_PUBLISHER_TIKTOK_{k}": v for k, v in insights.items()},
            "HERALD_PUBLISHER_TIKTOK_TIKTOK__VERIFIED_URL_PREFIXES": verified,
            "HERALD_PUBLISHER_TIKTOK_TIKTOK__PHOTO_URL_SCHEMES": schemes,
            **{
                f"HERALD_PUBLISHER_TIKTOK_TIKTOK__LIMITS__{k}_PER_MINUTE": v
                for k, v in per_minute.items()
            },
        },
    }


# Webhooks to a receiver on loopback, retried within seconds; a connection is told it is ending
# 60 days ahead, which a Facebook connection (a 60-day user token) already is (ADR 0021).
WEBHOOKS = {
    "ALLOW_LOOPBACK": "true",
    "ALLOWED_SCHEMES": '["http", "https"]',
    "ALLOWED_PORTS": "null",
    "RETRY_DELAYS_S": "[1, 2]",
    "POLL_S": "0.2",
    "EXPIRING_DAYS_AHEAD": "60",
    "EXPIRY_CHECK_S": "1",
}


def free_offset(base: StackConfig) -> int:
    """A free range of service ports: `HERALD_E2E_SERVICE_PORT_OFFSET` if set (someone who must
    keep to assigned ports on a shared machine), else the first free one from 500 up."""
    chosen = os.environ.get("HERALD_E2E_SERVICE_PORT_OFFSET")
    offsets = [int(chosen)] if chosen else range(500, 4000, 43)
    for offset in offsets:
        candidate = dataclasses.replace(base, service_port_offset=offset)
        if not any(port_taken(services.port(candidate, s)) for s in services.SERVICES):
            return offset
    pytest.fail("no free range of service ports found")


@contextlib.contextmanager
def running_system(cfg: StackConfig) -> Iterator[Connected]:
    """Every service of `cfg` as a process, the sandbox's accounts connected through OAuth to a
    new business; all stopped on leaving."""
    stack_module.provision(cfg)
    system = System(cfg)
    extra_env = _extra_env(services.url(cfg, "platform-sandbox"))
    try:
        for service in services.SERVICES:  # the sandbox first
            system.start(service.name, extra_env=extra_env.get(service.name))
        keys = StackSecrets.load_or_create(cfg.run_dir)
        auth = system.url("auth-service")
        with httpx.Client(timeout=30) as http:
            made = demo.ensure_business(
                http, cfg.run_dir / "demo.json", auth, keys.admin_token, lambda _: None
            )
            integrations = {p: demo.connect(http, auth, made.api_key, p) for p in demo.PROVIDERS}
        yield Connected(system, made.api_key, integrations, extra_env)
    finally:
        system.stop_all()
        stack_module.unprovision(cfg)  # a namespace's topics would stay on the shared broker


def namespaced(base: StackConfig, run_dir: Path, prefix: str) -> StackConfig:
    """`base` with its own run directory, service ports and namespace on the same infra."""
    return dataclasses.replace(
        base,
        run_dir=run_dir,
        service_port_offset=free_offset(base),
        namespace=f"{prefix}{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture(scope="session")
def connected(
    infra: InfraEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Connected]:
    del infra
    cfg = namespaced(StackConfig.from_env(), tmp_path_factory.mktemp("chaos"), "chaos")
    with running_system(cfg) as system:
        yield system
