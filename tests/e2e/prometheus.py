"""Debian's Prometheus on loopback for the e2e tier, with the project's own scrape configuration
(deploy/compose/prometheus.yml: its jobs, with the running stack's addresses in place of compose's
host names, scraped every second) and rule files (deploy/observability/prometheus)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed

from herald.testkit.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRAPE_CONFIG = ROOT / "deploy" / "compose" / "prometheus.yml"
RULES = ROOT / "deploy" / "observability" / "prometheus" / "herald-rules.yml"
INSTALL = (
    "Debian's prometheus is needed for the e2e tier: apt-get install --no-install-recommends "
    "prometheus (.ci/run installs it where it is missing)"
)


class QueryError(AssertionError):
    """Prometheus refused or failed a query."""


def config(urls: dict[str, str], rule_files: list[Path], every_s: int = 1) -> dict[str, Any]:
    """The project's scrape configuration, pointed at `urls` (service name → base URL)."""
    loaded: dict[str, Any] = yaml.safe_load(SCRAPE_CONFIG.read_text())
    for job in loaded["scrape_configs"]:
        for static in job["static_configs"]:
            hosts = [target.split(":")[0] for target in static["targets"]]
            static["targets"] = [urlsplit(urls[host]).netloc for host in hosts]
    interval = f"{every_s}s"
    loaded["global"] = {
        "scrape_interval": interval,
        "evaluation_interval": interval,
        "scrape_timeout": interval,
    }
    loaded["rule_files"] = [str(path) for path in rule_files]
    return loaded


@dataclass(frozen=True)
class Prometheus:
    url: str

    def _get(self, path: str, **params: str) -> Any:
        answer = httpx.get(f"{self.url}{path}", params=params, timeout=30)
        body = answer.json()
        if answer.status_code != 200 or body.get("status") != "success":
            raise QueryError(f"{path} {params}: {answer.status_code} {body.get('error', body)}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self._get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] == "vector" else []
        return result

    def targets(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._get("/api/v1/targets")["activeTargets"]
        return found

    def alerts(self, name: str) -> list[dict[str, Any]]:
        found = self._get("/api/v1/alerts")["alerts"]
        return [a for a in found if a["labels"].get("alertname") == name]

    def rule_errors(self) -> list[str]:
        groups = self._get("/api/v1/rules")["groups"]
        return [
            f"{rule['name']}: {rule['lastError']}"
            for group in groups
            for rule in group["rules"]
            if rule.get("lastError")
        ]


@contextlib.contextmanager
def running(workdir: Path, configuration: dict[str, Any]) -> Iterator[Prometheus]:
    """Prometheus with `configuration`, its data in `workdir`, on a free loopback port."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(INSTALL)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(configuration))
    port = free_port()
    log = (workdir / "prometheus.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603 - Debian's prometheus with our arguments
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=2h",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not start; see {workdir / 'prometheus.log'}")
            time.sleep(0.2)
        yield Prometheus(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def eventually(check: Any, timeout_s: float, what: str, interval_s: float = 1.0) -> Any:
    """Call `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f} s (last: {value!r})")
        time.sleep(interval_s)
