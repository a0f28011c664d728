"""AsyncAPI 3.0 documents of Herald's Kafka services, generated from the apps themselves.

Each service's app is built (no I/O) on a broker of ours; FastStream describes what it subscribes
to. What a service produces goes through `herald.emitter` rather than FastStream publishers, so
those channels are declared here from the design's topic table; and because Herald's handlers
take raw messages (to dead-letter what does not decode), every message's payload is pointed at
the event JSON Schemas (in AsyncAPI's dialect, with headers, Kafka bindings and security:
`herald_localstack.asyncapi_kafka`). `python -m herald_localstack.asyncapi write|check`;
a unit test fails when `docs/asyncapi/` drifts from the apps.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from herald import events, notices
from herald.events import Event
from herald.kafka import new_broker
from herald.settings import KafkaSettings
from herald.topics import DELAY_TIERS, PLATFORMS, Platform, TopicNames
from herald_localstack import asyncapi_kafka

NAMES = TopicNames()
RESULTS: list[type[Event]] = [
    events.PostPublished,
    events.PostFailed,
    events.PostRetryScheduled,
    events.PostProgressed,
    events.PostRejected,
]
STATUSES: list[type[Event]] = [
    events.MessageSent,
    events.MessageDelivered,
    events.MessageRead,
    events.MessageFailed,
    events.RecipientFlagged,
]
INTEGRATIONS: list[type[Event]] = [
    events.IntegrationConnected,
    events.IntegrationRefreshed,
    events.IntegrationExpired,
    events.IntegrationDisconnected,
]


def _payloads(address: str) -> list[type[Event]]:
    fixed: dict[str, list[type[Event]]] = {
        NAMES.post_submitted: [events.PostSubmitted],
        NAMES.post_results: RESULTS,
        NAMES.post_insights: [
            events.PostInsightsCollected,
            events.PostInsightsUnavailable,
            events.AccountInsightsCollected,
            events.AccountInsightsUnavailable,
            events.PostInsightsRequested,
        ],
        NAMES.message_status: STATUSES,
        NAMES.integration_events: INTEGRATIONS,
        NAMES.business_events: [*notices.NOTICES, events.IntegrationDisconnected],
    }
    if address in fixed:
        return fixed[address]
    if address.startswith("post.requested."):
        return [events.PostRequested]
    return []


def _outputs(service: str) -> list[tuple[str, str]]:
    """(topic, description) of what a service produces."""
    if service == "auth-service":
        return [
            (
                NAMES.integration_events,
                "Connected accounts: connected, refreshed, expired, disconnected.",
            )
        ]
    if service == "scheduler":
        own = [
            (NAMES.requested(p), f"One target for the {p.value} publisher, at its due time.")
            for p in PLATFORMS
        ]
        return [
            *own,
            (NAMES.post_results, "Rejected submissions, with every violation."),
            (NAMES.post_insights, "Analytics refreshes a business asked for, per target."),
            (
                NAMES.business_events,
                "What businesses are told (herald.notices): accepted posts, target results, "
                "finished posts, broadcasts, integrations to reconnect, disabled webhooks.",
            ),
        ]
    platform = Platform(service.removeprefix("publisher-"))
    out = [
        (NAMES.post_results, "Published, failed or retry-scheduled, per target."),
        *[
            (NAMES.delay(platform, tier), f"Deferred requests, held {tier}.")
            for tier in DELAY_TIERS
        ],
        (
            NAMES.dlq(platform),
            "Requests given up on, with x-error-* headers; replay with herald.replay.",
        ),
    ]
    if platform is Platform.WHATSAPP:
        out.append((NAMES.message_status, "Per-recipient delivery statuses and flagged numbers."))
    else:
        out.append(
            (
                NAMES.post_insights,
                "Insights snapshots at each configured age, and each connected account's days.",
            )
        )
    return out


def _builders() -> dict[str, Callable[[KafkaBroker], Any]]:
    # Imported here: these are the services, which the shared library never imports.
    from auth_service.app import create_app as auth  # noqa: PLC0415
    from auth_service.settings import Settings as AuthSettings  # noqa: PLC0415
    from publisher_facebook.app import create_app as facebook  # noqa: PLC0415
    from publisher_facebook.settings import Settings as FacebookSettings  # noqa: PLC0415
    from publisher_instagram.app import create_app as instagram  # noqa: PLC0415
    from publisher_instagram.settings import Settings as InstagramSettings  # noqa: PLC0415
    from publisher_tiktok.app import create_app as tiktok  # noqa: PLC0415
    from publisher_tiktok.settings import Settings as TikTokSettings  # noqa: PLC0415
    from publisher_whatsapp.app import create_app as whatsapp  # noqa: PLC0415
    from publisher_whatsapp.settings import Settings as WhatsAppSettings  # noqa: PLC0415
    from scheduler.app import create_app as scheduler  # noqa: PLC0415
    from scheduler.settings import Settings as SchedulerSettings  # noqa: PLC0415

    return {
        "auth-service": lambda b: auth(AuthSettings(), broker=b),
        "scheduler": lambda b: scheduler(SchedulerSettings(), broker=b),
        "publisher-facebook": lambda b: facebook(FacebookSettings(), broker=b),
        "publisher-instagram": lambda b: instagram(InstagramSettings(), broker=b),
        "publisher-whatsapp": lambda b: whatsapp(WhatsAppSettings(), broker=b),
        "publisher-tiktok": lambda b: tiktok(TikTokSettings(), broker=b),
    }


def document(service: str) -> dict[str, Any]:
    broker = new_broker(
        KafkaSettings(bootstrap_servers="kafka:9092"), client_id=f"herald-{service}"
    )
    _builders()[service](broker)
    for topic, description in _outputs(service):
        broker.publisher(topic, title=f"{topic}:produce", description=description)
    spec = AsyncAPI(
        broker,
        title=f"Herald {service}",
        version="1.0.0",
        description=f"The Kafka side of {service}.",
    )
    doc: dict[str, Any] = json.loads(spec.to_specification().to_json())
    addresses = {channel["address"] for channel in doc.get("channels", {}).values()}
    payloads = {a: [t.event_type for t in _payloads(a)] for a in addresses}
    asyncapi_kafka.complete(doc, broker, payloads)  # dialect, headers, bindings, security
    return doc


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _directory() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "docs").is_dir() and (parent / "libs").is_dir():
            return parent / "docs" / "asyncapi"
    msg = "cannot find the repository's docs/ folder"
    raise RuntimeError(msg)


def check(directory: Path | None = None) -> list[str]:
    directory = directory or _directory()
    drift = []
    for service in _builders():
        path = directory / f"{service}.json"
        if not path.exists() or path.read_text() != render(document(service)):
            drift.append(path.name)
    return drift


def write(directory: Path | None = None) -> list[str]:
    directory = directory or _directory()
    directory.mkdir(parents=True, exist_ok=True)
    for service in _builders():
        (directory / f"{service}.json").write_text(render(document(service)))
    return sorted(_builders())


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"]:
        print(f"wrote AsyncAPI documents for {', '.join(write())}")
        return 0
    drift = check()
    for name in drift:
        print(f"out of date: docs/asyncapi/{name}")
    return 1 if drift else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
