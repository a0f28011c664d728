"""Settings of publisher-instagram.

Variables are prefixed `HERALD_PUBLISHER_INSTAGRAM_`; shared pieces (Kafka, MongoDB,
logging) come from herald.settings and read their own prefixes.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from herald.settings import (
    HttpServerSettings,
    KafkaSettings,
    LogSettings,
    MongoSettings,
    service_config,
)


class Settings(BaseSettings):
    model_config = service_config("HERALD_PUBLISHER_INSTAGRAM_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8112))
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mongo: MongoSettings = Field(default_factory=MongoSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    database: str = Field(
        default="herald_publisher_instagram", description="The MongoDB database this service owns."
    )
