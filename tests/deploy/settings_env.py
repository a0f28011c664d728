"""What each service's settings class accepts, in environment-variable terms: the chart and the
compose file must use real names (a wrong one stops a service at start) and must carry every
`SecretStr` setting from a Secret, never from a ConfigMap."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings

import auth_service.settings
import console.settings
import publisher_facebook.settings
import publisher_instagram.settings
import publisher_tiktok.settings
import publisher_whatsapp.settings
import scheduler.settings

SETTINGS: dict[str, type[BaseSettings]] = {
    "auth-service": auth_service.settings.Settings,
    "scheduler": scheduler.settings.Settings,
    "publisher-facebook": publisher_facebook.settings.Settings,
    "publisher-instagram": publisher_instagram.settings.Settings,
    "publisher-whatsapp": publisher_whatsapp.settings.Settings,
    "publisher-tiktok": publisher_tiktok.settings.Settings,
    "console": console.settings.Settings,
}
# Not a SecretStr, but a MongoDB URI carries the database's credentials.
ALSO_SECRET = {"HERALD_MONGO_URI"}


def prefixes(cls: type[BaseSettings]) -> set[str]:
    """The service's own prefix and those of the shared pieces it nests (Kafka, MongoDB, log)."""
    found = {str(cls.model_config.get("env_prefix", ""))}
    for field in cls.model_fields.values():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            found |= prefixes(field.annotation)
    return found


def secret_variables(cls: type[BaseModel], prefix: str | None = None) -> set[str]:
    """Every variable that sets a SecretStr (or a dict or list of them) under `cls`; with
    ALSO_SECRET, what must come from a Secret."""
    if prefix is None:
        prefix = str(cls.model_config.get("env_prefix", ""))
    found: set[str] = set()
    for name, field in cls.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            found |= secret_variables(annotation)
            continue
        variable = f"{prefix}{name.upper()}"
        nested = _model(annotation)
        if nested is not None:
            found |= secret_variables(nested, variable + "__")
        elif _holds_secret(annotation):
            found.add(variable)
    return found


def _model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _holds_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, dict, list, tuple):
        return any(_holds_secret(arg) for arg in typing.get_args(annotation))
    return False
