"""The production example, with secrets from `make secrets`, configures every service so that it
would start: each settings class loads from exactly the environment the chart gives its pod, and
the production checks of auth-service (weak, missing or placeholder secrets) and the scheduler
(its token, development-only settings) find nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.deploy import chart
from tests.deploy.chart import PRODUCTION, of_kind
from tests.deploy.settings_env import SETTINGS

from auth_service.settings import Settings as AuthSettings
from auth_service.settings import secret_problems
from console import keys as console_keys
from console.settings import Settings as ConsoleSettings
from herald.settings import load_settings
from scheduler.environment import startup_problems
from scheduler.settings import Settings as SchedulerSettings
from scheduler.webhooks.wiring import keyring

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("secrets")
    subprocess.run(  # noqa: S603 - the project's own generator
        [sys.executable, str(chart.ROOT / "scripts" / "generate_secrets.py"), "--out", str(out),
         "--values", str(PRODUCTION)],
        check=True, capture_output=True,
    )  # fmt: skip
    lines = (out / "kubernetes.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def _pod_environment(service: str, secrets: dict[str, str]) -> dict[str, str]:
    docs = chart.render(PRODUCTION)
    env = dict(of_kind(docs, "ConfigMap")[service]["data"])
    container = of_kind(docs, "Deployment")[service]["spec"]["template"]["spec"]["containers"][0]
    for entry in container.get("env", []):
        env[entry["name"]] = secrets[entry["valueFrom"]["secretKeyRef"]["key"]]
    return env


@pytest.mark.parametrize(
    "service", [s for s, v in chart.values(PRODUCTION)["services"].items() if v["enabled"]]
)
def test_production_values_and_generated_secrets_configure_the_service(
    service: str, secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("HERALD_")]:
        monkeypatch.delenv(name)
    for name, value in _pod_environment(service, secrets).items():
        monkeypatch.setenv(name, value)
    settings = load_settings(SETTINGS[service])
    if isinstance(settings, AuthSettings):
        assert settings.environment == "production"
        assert secret_problems(settings) == []
        assert set(settings.service_tokens) == {
            s for s, v in chart.values(PRODUCTION)["services"].items()
            if any(k.endswith("_AUTH__SERVICE_TOKEN") for k in v["secretEnv"])
        }  # fmt: skip
    elif isinstance(settings, ConsoleSettings):  # no store: the APIs it calls, its session keys
        assert settings.auth_url == "http://herald-auth-service:8101"
        assert settings.scheduler_url == "http://herald-scheduler:8102"
        assert settings.secure_cookies
        assert settings.environment == "production"
        assert console_keys.refusals(settings) == []
        assert console_keys.keyring(settings).primary_kid == "k1"
    else:
        token = settings.auth.service_token.get_secret_value()  # type: ignore[attr-defined]
        assert token == secrets[f"{_prefix(service)}AUTH__SERVICE_TOKEN"]
    if isinstance(settings, SchedulerSettings):  # production, and its webhook keyring seals
        assert settings.environment == "production"
        assert startup_problems(settings) == []
        sealing = keyring(settings.webhooks, http_host=settings.http.host, production=True)
        assert sealing.primary_kid == "2026-12"


@pytest.mark.parametrize("values", [(), (PRODUCTION,)], ids=["chart-defaults", "production"])
def test_auth_service_and_the_scheduler_run_as_production(values: tuple[Path, ...]) -> None:
    maps = of_kind(chart.render(*values), "ConfigMap")
    assert maps["auth-service"]["data"]["HERALD_AUTH_ENVIRONMENT"] == "production"
    assert maps["scheduler"]["data"]["HERALD_SCHEDULER_ENVIRONMENT"] == "production"


def _prefix(service: str) -> str:
    return f"HERALD_{service.replace('-', '_').upper()}_"


def test_secrets_files_are_private(tmp_path: Path) -> None:
    generator = str(chart.ROOT / "scripts" / "generate_secrets.py")
    subprocess.run(  # noqa: S603 - the project's own generator
        [sys.executable, generator, "--out", str(tmp_path)],
        check=True, capture_output=True,
    )  # fmt: skip
    files = sorted(tmp_path.glob("*.env"))
    assert len(files) == 10  # 7 services (the console's session keys), sandbox, demo, kubernetes
    assert all(path.stat().st_mode & 0o077 == 0 for path in files)
