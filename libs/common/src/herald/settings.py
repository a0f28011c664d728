"""Settings pieces that every service nests, and one loader that explains bad configuration.

Shared pieces (Kafka, MongoDB, logging) read their own prefixes (`HERALD_KAFKA_`, `HERALD_MONGO_`,
`HERALD_LOG_`) so one environment serves every process; a service's own settings class adds its
prefix (`HERALD_SCHEDULER_`) for what belongs to it alone. Nothing here reads the environment at
import: a settings object exists only when a service's `__main__` or a test builds one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

S = TypeVar("S", bound=BaseSettings)

# Values of these settings are never echoed back in an error message.
_SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|KEY|URI", re.IGNORECASE)


class ConfigurationError(Exception):
    """The service's configuration is wrong; the message names every offending variable."""


class KafkaSettings(BaseSettings):
    """Where the brokers are and how patient a client is with them."""

    model_config = SettingsConfigDict(env_prefix="HERALD_KAFKA_", extra="forbid")

    bootstrap_servers: str = Field(
        default="127.0.0.1:19092",
        description="Comma-separated host:port list of Kafka brokers.",
    )
    request_timeout_ms: int = Field(default=30_000, ge=1_000)
    startup_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a service keeps trying to reach Kafka at start before giving up.",
    )
    graceful_timeout_s: float = Field(
        default=15.0,
        gt=0,
        description="At shutdown, how long handlers in flight may finish before cancellation.",
    )

    @field_validator("bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        for part in value.split(","):
            host, sep, port = part.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                msg = f"expected host:port[,host:port...], got {part.strip()!r}"
                raise ValueError(msg)
        return value


class MongoSettings(BaseSettings):
    """The MongoDB deployment (FerretDB in local runs and tests). Each service owns a database."""

    model_config = SettingsConfigDict(env_prefix="HERALD_MONGO_", extra="forbid")

    uri: str = Field(default="mongodb://127.0.0.1:27018/", description="MongoDB connection URI.")
    server_selection_timeout_ms: int = Field(default=5_000, ge=100)
    startup_timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("uri")
    @classmethod
    def _mongo_scheme(cls, value: str) -> str:
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            msg = "must start with mongodb:// or mongodb+srv://"
            raise ValueError(msg)
        return value


class LogSettings(BaseSettings):
    """Log level and rendering: JSON when not on a terminal unless told otherwise."""

    model_config = SettingsConfigDict(env_prefix="HERALD_LOG_", extra="forbid")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class HttpServerSettings(BaseModel):
    """Where a service listens, and how much and how long a request body may take (routes that
    take files set their own, larger limits; `herald.bodylimits`). Not shared: every service has
    its own port."""

    model_config = {"extra": "forbid"}

    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="The largest request body a route takes by default."
    )
    body_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="How long a request's body may take to arrive, from the request's start.",
    )


def service_config(prefix: str) -> SettingsConfigDict:
    """The settings config every service class uses: its prefix, `__` for nesting, no extras."""
    return SettingsConfigDict(env_prefix=prefix, env_nested_delimiter="__", extra="forbid")


def load_settings(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Build `cls` from the environment or raise `ConfigurationError` naming each bad variable.

    A variable under one of the class's prefixes that names no setting is an error too: a typo
    in a variable name should stop the service, not be ignored.
    """
    unknown = unknown_variables(cls, os.environ if environ is None else environ)
    if unknown:
        lines = [f"  {name}: no such setting" for name in unknown]
        raise ConfigurationError("\n".join([f"invalid configuration for {cls.__name__}:", *lines]))
    try:
        return cls()
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc, cls)) from exc


def unknown_variables(cls: type[BaseSettings], environ: Mapping[str, str]) -> list[str]:
    """Environment variables under the prefixes of `cls` (and its nested settings) that name
    no field."""
    unknown = []
    for settings_cls in _settings_classes(cls):
        prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
        if not prefix:
            continue
        delimiter = settings_cls.model_config.get("env_nested_delimiter") or None
        fields = {name.upper() for name in settings_cls.model_fields}
        for name in environ:
            upper = name.upper()
            if not upper.startswith(prefix):
                continue
            rest = upper[len(prefix) :]
            head = rest.split(delimiter.upper())[0] if delimiter else rest
            if head not in fields:
                unknown.append(name)
    return sorted(unknown)


def environment_variables(cls: type[BaseSettings]) -> list[str]:
    """Every variable `cls` reads (nested pieces with `__`), with its default where it has a
    plain one; for `--help`."""
    lines = []
    for settings_cls in _settings_classes(cls):
        prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
        delimiter = str(settings_cls.model_config.get("env_nested_delimiter") or "__")
        for name, field in settings_cls.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
                continue  # listed under its own prefix
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                for inner, inner_field in annotation.model_fields.items():
                    variable = f"{prefix}{name}{delimiter}{inner}".upper()
                    lines.append(_described(variable, inner_field.default))
            else:
                lines.append(_described(f"{prefix}{name}".upper(), field.default))
    return lines


def _described(variable: str, default: Any) -> str:
    plain = isinstance(default, str | int | float | bool) and not _SECRET_WORDS.search(variable)
    return f"{variable} (default {default!r})" if plain else variable


def _settings_classes(root: type[BaseSettings]) -> list[type[BaseSettings]]:
    found = [root]
    for field in root.model_fields.values():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            found.extend(_settings_classes(annotation))
    return found


def describe_validation_error(exc: ValidationError, cls: type[BaseSettings]) -> str:
    """One line per problem, in terms of the environment variable a person would change."""
    owner = _settings_class_named(exc.title, cls) or cls
    prefix = str(owner.model_config.get("env_prefix", ""))
    delimiter = str(owner.model_config.get("env_nested_delimiter") or "__")
    lines = [f"invalid configuration for {cls.__name__}:"]
    for error in exc.errors():
        path = delimiter.join(str(part) for part in error["loc"]).upper()
        given = error.get("input")
        secret = _SECRET_WORDS.search(path)
        plain = not (secret or isinstance(given, dict) or given is None)
        shown = f" (got {given!r})" if plain else ""
        lines.append(f"  {prefix}{path}: {error['msg']}{shown}")
    return "\n".join(lines)


def _settings_class_named(title: str, root: type[BaseSettings]) -> type[BaseSettings] | None:
    return next((c for c in _settings_classes(root) if c.__name__ == title), None)
