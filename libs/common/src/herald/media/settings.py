"""Settings of the media fetcher, a nested piece of each service's settings (`fetcher`)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from herald.media.guard import Trusted

GIB = 1024**3


class FetchSettings(BaseModel):
    model_config = {"extra": "forbid"}

    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins with a path prefix, fetched whatever address they have, e.g. "
        "http://127.0.0.1:8120/_sandbox/media/ (sandbox, demo); other paths of that origin are "
        "refused. An origin without a path trusts all of it.",
    )
    allowed_schemes: list[str] = Field(default_factory=lambda: ["http", "https"])
    allowed_ports: list[int] | None = Field(
        default_factory=lambda: [80, 443], description="null: any port."
    )
    max_bytes: int = Field(default=4 * GIB, gt=0, description="No file may be larger.")
    total_timeout_s: float = Field(default=1800.0, gt=0, description="Whole download, at most.")
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0, description="Silence between reads.")
    max_redirects: int = Field(default=3, ge=0, le=10)
    max_connections: int = Field(default=20, ge=1)
    user_agent: str = "herald-media-fetcher/0.1"

    @field_validator("allowed_origins")
    @classmethod
    def _entries_parse(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            Trusted.parse(entry)  # a ValueError names the entry and what is wrong
        return entries
