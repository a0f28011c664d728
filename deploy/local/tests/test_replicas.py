"""`HERALD_STACK_REPLICAS_<SERVICE>=N`: N processes of one service under `make up`, each on its
own port, the rest of the stack unchanged."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest

from herald_localstack import services
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError

pytestmark = pytest.mark.unit


def _cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **replicas: str) -> StackConfig:
    for name, value in replicas.items():
        monkeypatch.setenv(f"HERALD_STACK_REPLICAS_{name}", value)
    return dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path)


def test_replicas_are_read_by_service_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, monkeypatch, PUBLISHER_FACEBOOK="3", SCHEDULER="2")
    assert dict(cfg.replicas) == {"publisher-facebook": 3, "scheduler": 2}
    facebook = next(s for s in services.SERVICES if s.name == "publisher-facebook")
    assert services.replicas(cfg, facebook) == 3
    ports = services.ports(cfg)
    assert len(ports) == len(services.SERVICES) + 3
    assert [ports[services.port(cfg, facebook) + 100 * k] for k in range(3)] == [
        "publisher-facebook",
        "publisher-facebook#2",
        "publisher-facebook#3",
    ]


def test_the_procfile_runs_each_extra_replica_on_its_own_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _cfg(tmp_path, monkeypatch, PUBLISHER_FACEBOOK="3")
    lines = services.procfile(cfg).read_text().splitlines()
    base = (cfg.root / "deploy" / "local" / "Procfile").read_text().splitlines()
    assert lines[: len(base)] == base
    extra = [shlex.split(line.partition(":")[2]) for line in lines[len(base) :]]
    # Each starts from its own environment, which holds its port (test_environments.py).
    assert extra == [
        ["exec", "python", "-m", "herald_localstack.launch", f"publisher-facebook#{k + 1}"]
        for k in (1, 2)
    ]
    port = services.port(cfg, next(s for s in services.SERVICES if s.name == "publisher-facebook"))
    facebook = next(s for s in services.SERVICES if s.name == "publisher-facebook")
    assert [services.environment(cfg, facebook, k)[facebook.port_variable] for k in (1, 2)] == [
        str(port + 100 * k) for k in (1, 2)
    ]
    assert len({line.partition(":")[0] for line in lines}) == len(lines)  # unique process names


def test_without_replicas_the_procfile_is_the_checked_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = dataclasses.replace(_cfg(tmp_path, monkeypatch), replicas=())
    written = services.procfile(cfg).read_text()
    assert written == (cfg.root / "deploy" / "local" / "Procfile").read_text()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PLATFORM_SANDBOX", "2", "the sandbox keeps the platforms' state in memory"),
        ("PUBLISHER_MYSPACE", "2", "no service 'publisher-myspace'"),
    ],
)
def test_impossible_replicas_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    cfg = _cfg(tmp_path, monkeypatch, **{variable: value})
    with pytest.raises(StackError, match=expected):
        services.check_replicas(cfg)


def test_a_count_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_STACK_REPLICAS_PUBLISHER_FACEBOOK", "13")
    with pytest.raises(ValueError, match="from 1 to 12"):
        StackConfig.from_env()
