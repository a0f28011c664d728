"""Settings of platform-sandbox: environment variables prefixed `HERALD_SANDBOX_`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from herald.settings import HttpServerSettings, LogSettings, service_config


class Settings(BaseSettings):
    model_config = service_config("HERALD_SANDBOX_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8120))
    log: LogSettings = Field(default_factory=LogSettings)
