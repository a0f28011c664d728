"""deploy/compose cannot run here (no Docker engine), so it is checked by what can run:
`config` of Docker Compose v2 (what `docker compose` is; built from its Go module by
scripts/ensure-deploy-tools) and of Debian's docker-compose 1.29, each validating against the
compose schema and resolving anchors, env files, interpolation (and, v2 only, profiles), with
secrets from `make secrets`. The resolved file is held to what a one-host production stack needs
(issue 18): services
reach each other by name, secrets only from the generated env files, MongoDB as a replica set,
Kafka on a volume, a healthcheck, a restart policy and resource limits on every container, the
sandbox and the demo only under the `demo` profile, and every variable a real setting."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed
from tests.deploy import chart
from tests.deploy.chart import RULES
from tests.deploy.settings_env import SETTINGS, prefixes, secret_variables

from auth_service.settings import Settings as AuthSettings
from auth_service.settings import secret_problems
from console import keys as console_keys
from console.settings import Settings as ConsoleSettings
from herald.settings import load_settings, unknown_variables
from herald_localstack.services import SERVICES
from scheduler.environment import startup_problems
from scheduler.settings import Settings as SchedulerSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
DEMO_ENV = ROOT / "deploy" / "compose" / "demo.env"
ONE_SHOTS = {"topics", "demo"}
DEMO_ONLY = {"platform-sandbox", "demo"}
# The services on Kafka and MongoDB with their own secrets (the sandbox and the console aside).
HERALD = set(SETTINGS) - {"console"}
# Herald's own addresses (the browser's view of auth-service and the console), not a platform's.
AUTH_URLS = ("AUTH__BASE_URL", "PUBLIC_BASE_URL", "OAUTH__RETURN_URLS")


@pytest.fixture(scope="module", params=["v2", "v1"])
def tool(request: pytest.FixtureRequest) -> tuple[str, Path]:
    """Compose v2 (the cached build) and v1 (Debian's docker-compose, on PATH)."""
    if request.param == "v2":
        return "v2", chart.tools().compose
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail(
            "docker-compose is needed to validate deploy/compose: apt-get install docker-compose"
        )
    return "v1", Path(found)


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compose-secrets")
    subprocess.run(  # noqa: S603 - the project's own generator, as `make secrets` runs it
        [sys.executable, str(ROOT / "scripts" / "generate_secrets.py"), "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


def _compose(tool: tuple[str, Path], secrets_dir: Path, *args: str, demo: bool = False) -> str:
    env_file = ["--env-file", str(DEMO_ENV)] if demo else []
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "COMPOSE_"))} | {
        "HERALD_COMPOSE_SECRETS": str(secrets_dir)
    }
    result = subprocess.run(  # noqa: S603 - a fixed tool on our own file
        [str(tool[1]), *env_file, "-f", str(COMPOSE), "config", *args],
        capture_output=True, text=True, check=False, env=environ,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def resolved(tool: tuple[str, Path], secrets_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(_compose(tool, secrets_dir))
    return config


@pytest.fixture(scope="module")
def demo(tool: tuple[str, Path], secrets_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(_compose(tool, secrets_dir, demo=True))
    return config


def _services(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from config["services"].items()


def test_compose_file_validates_and_runs_every_service(
    tool: tuple[str, Path], secrets_dir: Path
) -> None:
    _compose(tool, secrets_dir, "--quiet")  # validates the whole file against the schema
    _compose(tool, secrets_dir, "--quiet", demo=True)
    everything = {s.name for s in SERVICES} | {"kafka", "mongo", "topics", "prometheus", "demo"}
    demo = _compose(tool, secrets_dir, "--services", demo=True).split()
    assert set(demo) == everything
    default = _compose(tool, secrets_dir, "--services").split()
    # v1 lists every service whatever the profiles; v2 only those that would run.
    assert set(default) == (everything - DEMO_ONLY if tool[0] == "v2" else everything)


def test_without_make_secrets_config_says_what_is_missing(
    tool: tuple[str, Path], tmp_path: Path
) -> None:
    environ = {**os.environ, "HERALD_COMPOSE_SECRETS": str(tmp_path / "absent")}
    result = subprocess.run(  # noqa: S603 - a fixed tool on our own file
        [str(tool[1]), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True, text=True, check=False, env=environ,
    )  # fmt: skip
    assert result.returncode != 0
    assert re.search(r"absent/[a-z-]+\.env", result.stderr), result.stderr


def test_services_reach_each_other_by_service_name(resolved: dict[str, Any]) -> None:
    for name in HERALD:
        env = resolved["services"][name]["environment"]
        assert env["HERALD_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["HERALD_MONGO_URI"].startswith("mongodb://mongo:27017/")
        if name != "auth-service":
            auth = [v for k, v in env.items() if k.endswith("_AUTH__BASE_URL")]
            assert auth == ["http://auth-service:8101"], name
        local = {
            k: v
            for k, v in env.items()
            if ("127.0.0.1" in str(v) or "localhost" in str(v)) and not k.endswith(AUTH_URLS)
        }
        assert not local, f"{name} would call itself: {local}"


def test_every_variable_is_a_real_setting(resolved: dict[str, Any], demo: dict[str, Any]) -> None:
    for config in (resolved, demo):
        for name in HERALD:
            env = config["services"][name]["environment"]
            names = [k for k in env if k.startswith("HERALD_")]
            assert all(k.startswith(tuple(prefixes(SETTINGS[name]))) for k in names), name
            assert unknown_variables(SETTINGS[name], env) == [], name


def test_secrets_come_only_from_the_generated_env_files(resolved: dict[str, Any]) -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    for name in HERALD:
        service = raw["services"][name]
        assert service["env_file"] == [f"${{HERALD_COMPOSE_SECRETS:-./secrets}}/{name}.env"]
        written = set(service.get("environment", {}))
        assert not written & secret_variables(SETTINGS[name]), name
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/compose/secrets/auth-service.env"],  # noqa: S607
        cwd=ROOT, check=False,
    )  # fmt: skip
    assert ignored.returncode == 0, "deploy/compose/secrets/ must be git-ignored"


@pytest.mark.parametrize("service", sorted(HERALD))
def test_each_service_is_configured_to_start_in_production(
    service: str, resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resolved environment loads the service's settings; auth-service runs as production
    and its check of weak or placeholder secrets finds none in the generated ones; so does the
    scheduler, with its token and its own webhook-secret key."""
    for name in [n for n in os.environ if n.startswith("HERALD_")]:
        monkeypatch.delenv(name)
    for name, value in resolved["services"][service]["environment"].items():
        monkeypatch.setenv(name, str(value))
    settings = load_settings(SETTINGS[service])
    if isinstance(settings, AuthSettings):
        assert settings.environment == "production"
        assert secret_problems(settings) == []
    if isinstance(settings, SchedulerSettings):
        assert settings.environment == "production"
        assert startup_problems(settings) == []


def test_the_console_starts_in_production_with_its_own_session_key(
    resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its keyring comes from its generated env file (ADR 0024), never from this file."""
    raw = yaml.safe_load(COMPOSE.read_text())["services"]["console"]
    assert raw["env_file"] == ["${HERALD_COMPOSE_SECRETS:-./secrets}/console.env"]
    assert not set(raw["environment"]) & secret_variables(SETTINGS["console"])
    for name in [n for n in os.environ if n.startswith("HERALD_")]:
        monkeypatch.delenv(name)
    for name, value in resolved["services"]["console"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    settings = load_settings(ConsoleSettings)
    assert settings.environment == "production"
    assert console_keys.refusals(settings) == []


def test_auth_service_believes_forwarded_addresses_from_the_console_only(
    resolved: dict[str, Any],
) -> None:
    """The console has a fixed address on the network, and it is the only one whose
    X-Forwarded-For (the browser's address, for the sign-in limit) auth-service believes; the
    console believes the proxy in front of it."""
    console = resolved["services"]["console"]["networks"]["default"]["ipv4_address"]
    subnet = resolved["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(console) in ipaddress.ip_network(subnet)
    env = resolved["services"]["auth-service"]["environment"]
    assert env["FORWARDED_ALLOW_IPS"] == console
    # The console believes the TLS proxy on the host (the gateway): the browser's address.
    gateway = next(ipaddress.ip_network(subnet).hosts())
    assert resolved["services"]["console"]["environment"]["FORWARDED_ALLOW_IPS"] == str(gateway)
    assert not any("FORWARDED_ALLOW_IPS" in (s.get("environment") or {})
                   for n, s in _services(resolved)
                   if n not in ("auth-service", "console"))  # fmt: skip


def test_mongodb_is_a_single_node_replica_set(resolved: dict[str, Any]) -> None:
    mongo = resolved["services"]["mongo"]
    assert mongo["command"][:3] == ["mongod", "--replSet", "rs0"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    for name in HERALD:
        assert "replicaSet=rs0" in resolved["services"][name]["environment"]["HERALD_MONGO_URI"]
    assert _mounts(mongo)["/data/db"] == "mongo-data"


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source, from either form `config` may print."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found[volume["target"]] = str(volume["source"])
        else:
            source, target = str(volume).split(":")[:2]
            found[target] = source
    return found


def test_kafka_keeps_its_data_on_a_volume(resolved: dict[str, Any]) -> None:
    kafka = resolved["services"]["kafka"]
    assert _mounts(kafka)[kafka["environment"]["KAFKA_LOG_DIRS"]] == "kafka-data"
    assert "kafka-data" in resolved["volumes"]


def test_every_container_has_a_restart_policy_healthcheck_and_limits(
    demo: dict[str, Any],
) -> None:
    for name, service in _services(demo):
        limits = service["deploy"]["resources"]["limits"]
        assert {"cpus", "memory"} <= set(limits), name
        if name in ONE_SHOTS:
            assert service["restart"] == "on-failure", name
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    dependants = [s for n, s in _services(demo) if n in HERALD]
    for service in dependants:
        assert service["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_herald_containers_are_read_only_and_unprivileged(resolved: dict[str, Any]) -> None:
    for name in HERALD:
        service = resolved["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["tmpfs"] == ["/tmp"], name  # noqa: S108 - the container's, not ours


def test_the_sandbox_and_the_demo_run_only_in_the_demo_profile(
    resolved: dict[str, Any], demo: dict[str, Any]
) -> None:
    for name, service in _services(demo):
        assert (service.get("profiles") == ["demo"]) == (name in DEMO_ONLY), name
    # Outside the demo every platform address is the real platform's ...
    facebook = resolved["services"]["publisher-facebook"]["environment"]
    assert facebook["HERALD_PUBLISHER_FACEBOOK_GRAPH__BASE_URL"] == "https://graph.facebook.com"
    auth = resolved["services"]["auth-service"]["environment"]
    assert auth["HERALD_AUTH_HOSTS__SANDBOX_URL"] == ""
    # ... and demo.env points each at the sandbox, and turns the profile on.
    assert "COMPOSE_PROFILES=demo" in DEMO_ENV.read_text().splitlines()
    sandbox = "http://platform-sandbox:8120"
    for name in HERALD - {"scheduler"}:
        env = demo["services"][name]["environment"]
        urls = [
            v
            for k, v in env.items()
            if k.endswith(("BASE_URL", "SANDBOX_URL")) and not k.endswith(AUTH_URLS)
        ]
        assert urls, name
        assert all(str(v).startswith(sandbox) for v in urls), (name, urls)


def test_prometheus_loads_the_shared_rules_file(resolved: dict[str, Any]) -> None:
    prometheus = resolved["services"]["prometheus"]
    assert _mounts(prometheus)["/etc/prometheus/rules/herald-rules.yml"] == str(RULES)
    scrape = yaml.safe_load((COMPOSE.parent / "prometheus.yml").read_text())
    assert scrape["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    [herald] = [job for job in scrape["scrape_configs"] if job["job_name"] == "herald"]
    scraped = {t.split(":")[0] for t in herald["static_configs"][0]["targets"]}
    assert scraped == HERALD | {"console"}  # every service with a /metrics, the sandbox aside


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_has_a_dockerfile_built_from_the_root(service: object) -> None:
    name = service.name  # type: ignore[attr-defined]  # a Service from the parametrize list
    package = service.package  # type: ignore[attr-defined]
    dockerfile = (ROOT / "services" / name / "Dockerfile").read_text()
    assert f"uv sync --frozen --no-dev --no-install-workspace --package {name}" in dockerfile
    assert f'CMD ["python", "-m", "{package}"]' in dockerfile
    compose = COMPOSE.read_text()
    assert f"dockerfile: services/{name}/Dockerfile" in compose
