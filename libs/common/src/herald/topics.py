"""Topic names, the provisioning plan, and which service uses which topic.

Names follow docs/architecture.md, "Topics": one request topic per platform, its
delay tiers and its dead-letter topic, plus the shared result, status and integration topics.
Topics are created by provisioning with explicit partition counts, never by auto-creation
(which gives one partition and caps how far a consumer group can scale).

`TopicNames.for_service` names every topic one service consumes and produces: a service waits
for exactly those at start-up, and a benchmark or test that runs a service provisions exactly
those, so neither can drift from the other (issue 25).
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
BUSINESS_EVENTS = "business.events"  # what businesses are told (herald.notices)

_REQUESTED_PREFIX = "post.requested"

# Delay tiers in seconds by name, shortest first. Each tier has one fixed delay, so the head of a
# partition is always the next message due (docs/architecture.md, "Failures and retries").
DELAY_TIERS: dict[str, int] = {"10s": 10, "1m": 60, "10m": 600, "1h": 3600}

DEFAULT_PARTITIONS = 12

AUTH_SERVICE = "auth-service"
SCHEDULER = "scheduler"


def publisher(platform: Platform | str) -> str:
    """The service name of a platform's publisher: `publisher-<platform>`."""
    return f"publisher-{Platform(platform).value}"


# Every Herald service that talks to Kafka (the platform sandbox does not).
SERVICES: tuple[str, ...] = (AUTH_SERVICE, SCHEDULER, *(publisher(p) for p in PLATFORMS))


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int


@dataclass(frozen=True, slots=True)
class ServiceTopics:
    """The topics one service consumes and produces (a topic may be both)."""

    service: str
    consumes: tuple[str, ...]
    produces: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every topic the service uses, each once: consumed ones first."""
        return tuple(dict.fromkeys((*self.consumes, *self.produces)))

    def plan(self, partitions: int = DEFAULT_PARTITIONS) -> list[TopicSpec]:
        """Just this service's topics, with their partition count, for an isolated run."""
        return [TopicSpec(name, _checked(partitions)) for name in self.names]


def _checked(partitions: int) -> int:
    if partitions < 1:
        msg = f"partitions must be at least 1, got {partitions}"
        raise ValueError(msg)
    return partitions


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

    @property
    def business_events(self) -> str:
        return self._name(BUSINESS_EVENTS)

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
        _checked(partitions)
        names = [
            self.post_submitted,
            self.post_results,
            self.post_insights,
            self.message_status,
            self.integration_events,
            self.business_events,
        ]
        for platform in platforms:
            names.append(self.requested(platform))
            names.extend(self.delay(platform, tier) for tier in self.tiers)
            names.append(self.dlq(platform))
        return [TopicSpec(name, partitions) for name in names]

    def for_service(self, service: str) -> ServiceTopics:
        """Every topic `service` (one of `SERVICES`) consumes and produces.

        Consumed: what its subscribers read. Produced: what it emits or routes to. A topic
        missing here is one the service does not wait for at start-up and an isolated run does
        not provision; tests/contract/test_service_topics.py holds this to the apps.
        """
        if service == AUTH_SERVICE:
            return ServiceTopics(service, consumes=(), produces=(self.integration_events,))
        if service == SCHEDULER:
            consumes = (
                self.post_submitted,
                self.post_results,
                self.integration_events,
                self.message_status,
                self.post_insights,  # snapshots for its analytics read model (ADR 0020)
            )
            # post.results: rejected submissions, with every violation; business.events: what
            # businesses are told (herald.notices).
            produces = (
                *(self.requested(p) for p in PLATFORMS),
                self.post_results,
                self.business_events,
                self.post_insights,  # refreshes asked for (herald.post.insights_requested.v1)
            )
            return ServiceTopics(service, consumes, produces)
        if service in SERVICES:
            return self._publisher(Platform(service.removeprefix("publisher-")))
        msg = f"unknown service {service!r}; known services: {', '.join(SERVICES)}"
        raise ValueError(msg)

    def _publisher(self, platform: Platform) -> ServiceTopics:
        tiers = [self.delay(platform, tier) for tier in self.tiers]
        # Integration events: WhatsApp's number directory, the others' connected accounts for
        # their account insights job (ADR 0020).
        consumes = [self.requested(platform), *tiers, self.integration_events]
        produces = [*tiers, self.dlq(platform), self.post_results]
        if platform is Platform.WHATSAPP:
            # Per-recipient delivery statuses out.
            produces.append(self.message_status)
        else:  # snapshots out; refreshes a business asked for in (ADR 0003)
            consumes.append(self.post_insights)
            produces.append(self.post_insights)
        return ServiceTopics(publisher(platform), tuple(consumes), tuple(produces))


DEFAULT_NAMES = TopicNames()


def requested(platform: Platform | str) -> str:
    return DEFAULT_NAMES.requested(platform)


def delay(platform: Platform | str, tier: str) -> str:
    return DEFAULT_NAMES.delay(platform, tier)


def dlq(platform: Platform | str) -> str:
    return DEFAULT_NAMES.dlq(platform)


def service_topics(service: str) -> ServiceTopics:
    return DEFAULT_NAMES.for_service(service)


def provisioning_plan(
    partitions: int = DEFAULT_PARTITIONS, platforms: Iterable[Platform] = PLATFORMS
) -> list[TopicSpec]:
    """Every topic Herald uses by default, with its partition count."""
    return DEFAULT_NAMES.plan(partitions, platforms)
