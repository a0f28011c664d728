"""deploy/compose cannot run here (no Docker engine), so it is checked by what can run:
`docker-compose config` validates the file, and its services match the workspace."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from herald_localstack.services import SERVICES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"


def _compose(*args: str) -> str:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail(
            "docker-compose is needed to validate deploy/compose: apt-get install docker-compose"
        )
    result = subprocess.run(  # noqa: S603 - a fixed tool on our own file
        [tool, "-f", str(COMPOSE), "config", *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_compose_file_validates_and_runs_every_service() -> None:
    _compose("--quiet")  # validates the whole file against the compose schema
    services = _compose("--services").split()
    expected = {s.name for s in SERVICES} | {"kafka", "mongo", "topics", "prometheus"}
    assert set(services) == expected


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_has_a_dockerfile_built_from_the_root(service: object) -> None:
    name = service.name  # type: ignore[attr-defined]  # a Service from the parametrize list
    package = service.package  # type: ignore[attr-defined]
    dockerfile = (ROOT / "services" / name / "Dockerfile").read_text()
    assert f"uv sync --frozen --no-dev --no-install-workspace --package {name}" in dockerfile
    assert f'CMD ["python", "-m", "{package}"]' in dockerfile
    compose = COMPOSE.read_text()
    assert f"dockerfile: services/{name}/Dockerfile" in compose
