"""`python -m herald.provision`: create Herald's topics with their partition counts.

Used by `deploy/local` (through herald-stack), by the compose file's one-shot `topics` service,
and by a production init job. Reads `HERALD_KAFKA_BOOTSTRAP_SERVERS`, `HERALD_TOPIC_PARTITIONS`
(default 12), `HERALD_TOPIC_REPLICATION_FACTOR` (default 1) and `HERALD_TOPIC_PREFIX`.
"""

from __future__ import annotations

import asyncio
import sys

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from herald.kafka import provision_topics
from herald.settings import ConfigurationError, KafkaSettings, load_settings
from herald.topics import DEFAULT_PARTITIONS, TopicNames


class ProvisionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_TOPIC_", extra="forbid")

    partitions: int = Field(default=DEFAULT_PARTITIONS, ge=1, le=1000)
    replication_factor: int = Field(default=1, ge=1, le=7)
    prefix: str = Field(default="", pattern=r"^[a-zA-Z0-9._-]*$")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)


def main() -> int:
    try:
        settings = load_settings(ProvisionSettings)
    except ConfigurationError as exc:
        print(f"herald.provision: {exc}", file=sys.stderr)  # noqa: T201 - a command-line answer
        return 2
    created, existing = asyncio.run(
        provision_topics(
            settings.kafka.bootstrap_servers,
            TopicNames(prefix=settings.prefix).plan(settings.partitions),
            replication_factor=settings.replication_factor,
        )
    )
    print(f"herald.provision: created {len(created)} topics, {len(existing)} already there")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
