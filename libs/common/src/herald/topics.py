"""Topic names and the provisioning plan. Call sites use these, never string literals.

Names follow docs/architecture.md §"The event contract": one request topic per platform, its
delay tiers and its dead-letter topic, plus the shared result, status and integration topics.
Topics are created by provisioning with explicit partition counts, never by auto-creation
(which gives one partition and caps how far a consumer group can scale).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    TIKTOK = "tiktok"


PLATFORMS: tuple[Platform, ...] = tuple(Platform)

POST_SUBMITTED = "post.submitted"
POST_RESULTS = "post.results"
POST_INSIGHTS = "post.insights"
MESSAGE_STATUS = "message.status"
INTEGRATION_EVENTS = "integration.events"

_REQUESTED_PREFIX = "post.requested"

# Delay tiers in seconds by name, shortest first. Each tier has one fixed delay, so the head of a
# partition is always the next message due (docs/architecture.md §5).
DELAY_TIERS: dict[str, int] = {"10s": 10, "1m": 60, "10m": 600, "1h": 3600}

DEFAULT_PARTITIONS = 12


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int


@dataclass(frozen=True)
class TopicNames:
    """Every topic name, under an optional prefix and with a set of delay tiers.

    The default (no prefix, `DELAY_TIERS`) is what services use. A prefix lets several Herald
    deployments share one cluster, and lets tests run isolated with short tiers.
    """

    prefix: str = ""
    tiers: Mapping[str, int] = field(default_factory=lambda: dict(DELAY_TIERS))

    def _name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def post_submitted(self) -> str:
        return self._name(POST_SUBMITTED)

    @property
    def post_results(self) -> str:
        return self._name(POST_RESULTS)

    @property
    def post_insights(self) -> str:
        return self._name(POST_INSIGHTS)

    @property
    def message_status(self) -> str:
        return self._name(MESSAGE_STATUS)

    @property
    def integration_events(self) -> str:
        return self._name(INTEGRATION_EVENTS)

    def requested(self, platform: Platform | str) -> str:
        """`post.requested.<platform>`: one target = one post on one connected account."""
        return self._name(f"{_REQUESTED_PREFIX}.{Platform(platform).value}")

    def delay(self, platform: Platform | str, tier: str) -> str:
        """`post.requested.<platform>.delay.<tier>`: the same event, deferred."""
        if tier not in self.tiers:
            msg = f"unknown delay tier {tier!r}; known tiers: {', '.join(self.tiers)}"
            raise ValueError(msg)
        return f"{self.requested(platform)}.delay.{tier}"

    def dlq(self, platform: Platform | str) -> str:
        """`post.requested.<platform>.dlq`: the same event, given up, with `x-error-*` headers."""
        return f"{self.requested(platform)}.dlq"

    def plan(
        self, partitions: int = DEFAULT_PARTITIONS, platforms: Iterable[Platform] = PLATFORMS
    ) -> list[TopicSpec]:
        """Every topic, with its partition count."""
        if partitions < 1:
            msg = f"partitions must be at least 1, got {partitions}"
            raise ValueError(msg)
        names = [
            self.post_submitted,
            self.post_results,
            self.post_insights,
            self.message_status,
            self.integration_events,
        ]
        for platform in platforms:
            names.append(self.requested(platform))
            names.extend(self.delay(platform, tier) for tier in self.tiers)
            names.append(self.dlq(platform))
        return [TopicSpec(name, partitions) for name in names]


DEFAULT_NAMES = TopicNames()


def requested(platform: Platform | str) -> str:
    return DEFAULT_NAMES.requested(platform)


def delay(platform: Platform | str, tier: str) -> str:
    return DEFAULT_NAMES.delay(platform, tier)


def dlq(platform: Platform | str) -> str:
    return DEFAULT_NAMES.dlq(platform)


def provisioning_plan(
    partitions: int = DEFAULT_PARTITIONS, platforms: Iterable[Platform] = PLATFORMS
) -> list[TopicSpec]:
    """Every topic Herald uses by default, with its partition count."""
    return DEFAULT_NAMES.plan(partitions, platforms)
