from __future__ import annotations

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from herald.settings import (
    ConfigurationError,
    HttpServerSettings,
    KafkaSettings,
    MongoSettings,
    load_settings,
    service_config,
)

pytestmark = pytest.mark.unit


class ExampleSettings(BaseSettings):
    model_config = service_config("HERALD_EXAMPLE_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8999))
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mongo: MongoSettings = Field(default_factory=MongoSettings)
    signing_secret: SecretStr = SecretStr("dev")


def test_defaults_point_at_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HERALD_KAFKA_BOOTSTRAP_SERVERS", "HERALD_MONGO_URI"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(ExampleSettings)
    assert settings.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert settings.mongo.uri == "mongodb://127.0.0.1:27018/"
    assert settings.http.port == 8999


def test_shared_and_own_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("HERALD_EXAMPLE_HTTP__PORT", "9100")
    settings = load_settings(ExampleSettings)
    assert settings.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.http.port == 9100


@pytest.mark.parametrize(
    ("variable", "value", "expected_line"),
    [
        (
            "HERALD_EXAMPLE_HTTP__PORT",
            "eighty",
            "HERALD_EXAMPLE_HTTP__PORT: Input should be a valid integer",
        ),
        (
            "HERALD_EXAMPLE_HTTP__PORT",
            "70000",
            "HERALD_EXAMPLE_HTTP__PORT: Input should be less than",
        ),
        (
            "HERALD_KAFKA_BOOTSTRAP_SERVERS",
            "kafka",
            "HERALD_KAFKA_BOOTSTRAP_SERVERS: Value error, expected host:port",
        ),
        (
            "HERALD_MONGO_URI",
            "postgres://x",
            "HERALD_MONGO_URI: Value error, must start with mongodb://",
        ),
        ("HERALD_EXAMPLE_COLOUR", "blue", "HERALD_EXAMPLE_COLOUR: no such setting"),
    ],
)
def test_bad_configuration_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected_line: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(ExampleSettings)
    assert expected_line in str(caught.value)


def test_secret_values_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_MONGO_URI", "mysql://root:hunter2@db/")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(ExampleSettings)
    assert "HERALD_MONGO_URI" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_misspelt_shared_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_KAFKA_BOOTSTRAP_SERVER", "k1:9092")
    with pytest.raises(ConfigurationError, match="HERALD_KAFKA_BOOTSTRAP_SERVER: no such setting"):
        load_settings(ExampleSettings)
