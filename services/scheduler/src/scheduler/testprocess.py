"""Test support that runs the scheduler for real, as `python -m scheduler` child processes
(replicas, SIGKILL, schemathesis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
from fastapi import FastAPI

from herald.settings import load_settings
from herald.testkit.servers import free_port
from herald.topics import Platform
from scheduler.app import create_app
from scheduler.settings import Settings
from scheduler.testing import FakeIntegrations, FakeKeys, eventually


class ServiceProcess:
    """`python -m scheduler` as a child process on a free port, with the given environment."""

    def __init__(self, env: dict[str, str], log_path: str, *, fake_auth: bool = False) -> None:
        self.port = free_port()
        self._env = {**os.environ, **env, "HERALD_SCHEDULER_HTTP__PORT": str(self.port)}
        self._log_path = log_path
        self._command = ["-m", "scheduler"]
        if fake_auth:
            factory = "scheduler.testprocess:app_with_fake_auth"
            self._command = ["-m", "uvicorn", "--factory", factory, "--port", str(self.port)]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        with open(self._log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, *self._command], env=self._env, stdout=log, stderr=log
            )

    async def start(self, timeout_s: float = 60.0) -> ServiceProcess:
        self.launch()
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:

            async def ready() -> bool:
                if self.process is not None and self.process.poll() is not None:
                    msg = f"scheduler exited with {self.process.returncode}"
                    raise RuntimeError(msg)
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await eventually(ready, timeout_s=timeout_s, interval_s=0.2)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing flushed."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    async def metrics(self) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            return (await http.get("/metrics")).text


def app_with_fake_auth() -> FastAPI:
    """The scheduler from environment settings, with auth-service faked: keys `KEY_A`/`KEY_B`
    and one active integration of biz-a per platform, `fb-1` and `<platform>-1` (for
    schemathesis and the property tests, in its own process so that its threads never touch the
    test process's `random` state)."""
    keys = FakeKeys()
    integrations = FakeIntegrations()
    integrations.add("fb-1")
    for platform in Platform:
        if platform is not Platform.FACEBOOK:
            integrations.add(f"{platform.value}-1", platform=platform)
    return create_app(load_settings(Settings), api_keys=keys, integrations=integrations)
