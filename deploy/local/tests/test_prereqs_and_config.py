"""Missing tools and bad settings give one clear line saying what to do."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from herald_localstack import kafka, prereqs
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError

pytestmark = pytest.mark.unit


@pytest.fixture
def empty_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)


@pytest.mark.usefixtures("empty_path")
@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (prereqs.java, "Java 17+ is needed to run Kafka: install a JDK 17"),
        (prereqs.maven, "Maven is needed once to fetch Kafka's jars"),
        (prereqs.go, "Go 1.24+ is needed once to build FerretDB"),
    ],
)
def test_a_missing_tool_says_what_to_install(check: object, expected: str) -> None:
    with pytest.raises(StackError) as caught:
        check()  # type: ignore[operator]  # each is a zero-argument check
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_an_old_java_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))

    with pytest.raises(StackError, match=r"Kafka 4 needs Java 17\+, but .* is Java 11"):
        prereqs.java()


def test_ports_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_STACK_KAFKA_PORT", "29092")
    monkeypatch.setenv("HERALD_STACK_FERRETDB_PORT", "28018")
    cfg = StackConfig.from_env()
    assert cfg.kafka_bootstrap == "127.0.0.1:29092"
    assert cfg.mongo_uri == "mongodb://127.0.0.1:28018/"


def test_a_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_STACK_KAFKA_PORT", "99999")
    with pytest.raises(ValueError, match="HERALD_STACK_KAFKA_PORT must be a whole number"):
        StackConfig.from_env()


def test_a_missing_postgres_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HERALD_STACK_POSTGRES_BIN", str(tmp_path))
    with pytest.raises(StackError) as caught:
        prereqs.postgres_bindir()
    message = str(caught.value)
    assert f"HERALD_STACK_POSTGRES_BIN={tmp_path} holds no initdb, postgres and psql" in message
    assert "apt-get install postgresql" in message


def test_the_postgres_port_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_STACK_POSTGRES_PORT", "25432")
    assert StackConfig.from_env().postgres_port == 25432


def test_kafka_cluster_ids_never_look_like_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """One random id in 64 began with "-" and the storage tool refused it as a missing value
    (CI, 2026-12-07); an id is drawn again until it does not, as Kafka's own Uuid does."""
    drawn = iter([uuid.UUID(bytes=b"\xfb" + bytes(15)), uuid.UUID(bytes=b"\x04" + bytes(15))])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    assert kafka.cluster_uuid() == "BAAAAAAAAAAAAAAAAAAAAA"
    monkeypatch.undo()
    assert all(not kafka.cluster_uuid().startswith("-") for _ in range(2000))
