"""Topic names and the provisioning plan. Call sites use these, never string literals.

Names follow docs/architecture.md §"The event contract": one request topic per platform, its
delay tiers and its dead-letter topic, plus the shared result, status and integration topics.
Topics are created by provisioning with explicit partition counts, never by auto-creation
(which gives one partition and caps how far a consumer group can scale).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    TIKTOK = "tiktok"


PLATFORMS: tuple[Platform, ...] = tuple(Platform)

POST_SUBMITTED = "post.submitted"
POST_RESULTS = "post.results"
MESSAGE_STATUS = "message.status"
INTEGRATION_EVENTS = "integration.events"

_REQUESTED_PREFIX = "post.requested"

# Delay tiers in seconds by name, shortest first. Each tier has one fixed delay, so the head of a
# partition is always the next message due (docs/architecture.md §5).
DELAY_TIERS: dict[str, int] = {"10s": 10, "1m": 60, "10m": 600, "1h": 3600}

DEFAULT_PARTITIONS = 12


def requested(platform: Platform | str) -> str:
    """`post.requested.<platform>`: one target = one post on one connected account."""
    return f"{_REQUESTED_PREFIX}.{Platform(platform).value}"


def delay(platform: Platform | str, tier: str) -> str:
    """`post.requested.<platform>.delay.<tier>`: the same event, deferred."""
    if tier not in DELAY_TIERS:
        msg = f"unknown delay tier {tier!r}; known tiers: {', '.join(DELAY_TIERS)}"
        raise ValueError(msg)
    return f"{requested(platform)}.delay.{tier}"


def dlq(platform: Platform | str) -> str:
    """`post.requested.<platform>.dlq`: the same event, given up, with `x-error-*` headers."""
    return f"{requested(platform)}.dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int


def provisioning_plan(
    partitions: int = DEFAULT_PARTITIONS,
    platforms: Iterable[Platform] = PLATFORMS,
) -> list[TopicSpec]:
    """Every topic Herald uses, with its partition count."""
    if partitions < 1:
        msg = f"partitions must be at least 1, got {partitions}"
        raise ValueError(msg)
    names = [POST_SUBMITTED, POST_RESULTS, MESSAGE_STATUS, INTEGRATION_EVENTS]
    for platform in platforms:
        names.append(requested(platform))
        names.extend(delay(platform, tier) for tier in DELAY_TIERS)
        names.append(dlq(platform))
    return [TopicSpec(name, partitions) for name in names]
