"""`TopicNames.for_service` is what each service really does with Kafka (issue 25).

A service waits at start-up for the topics this list names, and benchmarks provision exactly
those; a topic missing from the list would surface only as a service that never becomes ready
in some isolated run. So the list is held here to the apps themselves: what each app subscribes
to (built on a broker of ours, no I/O) must be what the list says it consumes, and what it
produces must be what the AsyncAPI contract (docs/asyncapi, from `herald_localstack.asyncapi`)
declares it sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import LogicSubscriber

from herald.kafka import new_broker
from herald.runtime.app import runtime_of
from herald.settings import KafkaSettings
from herald.topics import SERVICES, TopicNames
from herald_localstack import asyncapi

pytestmark = pytest.mark.unit

PREFIX = "t25."
NAMES = TopicNames(prefix=PREFIX)


def _builders() -> dict[str, Callable[[KafkaBroker], Any]]:
    from auth_service.app import create_app as auth
    from auth_service.settings import Settings as AuthSettings
    from publisher_facebook.app import create_app as facebook
    from publisher_facebook.settings import Settings as FacebookSettings
    from publisher_instagram.app import create_app as instagram
    from publisher_instagram.settings import Settings as InstagramSettings
    from publisher_tiktok.app import create_app as tiktok
    from publisher_tiktok.settings import Settings as TikTokSettings
    from publisher_whatsapp.app import create_app as whatsapp
    from publisher_whatsapp.settings import Settings as WhatsAppSettings
    from scheduler.app import create_app as scheduler
    from scheduler.settings import Settings as SchedulerSettings

    return {
        "auth-service": lambda b: auth(AuthSettings(topic_prefix=PREFIX), broker=b),
        "scheduler": lambda b: scheduler(SchedulerSettings(topic_prefix=PREFIX), broker=b),
        "publisher-facebook": lambda b: facebook(FacebookSettings(topic_prefix=PREFIX), broker=b),
        "publisher-instagram": lambda b: instagram(
            InstagramSettings(topic_prefix=PREFIX), broker=b
        ),
        "publisher-whatsapp": lambda b: whatsapp(WhatsAppSettings(topic_prefix=PREFIX), broker=b),
        "publisher-tiktok": lambda b: tiktok(TikTokSettings(topic_prefix=PREFIX), broker=b),
    }


def _built(service: str) -> tuple[Any, KafkaBroker]:
    broker = new_broker(KafkaSettings(), client_id=f"herald-{service}")
    return _builders()[service](broker), broker


def subscribed(broker: KafkaBroker) -> set[str]:
    found: set[str] = set()
    for sub in broker.subscribers:
        assert isinstance(sub, LogicSubscriber), sub  # every Kafka subscriber is one
        found.update(sub.topic_names)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_the_list_names_exactly_what_the_app_subscribes_to(service: str) -> None:
    _, broker = _built(service)
    listed = set(NAMES.for_service(service).consumes)
    assert subscribed(broker) == listed, (
        f"{service} subscribes to {sorted(subscribed(broker) - listed)} that its list lacks, "
        f"and its list names {sorted(listed - subscribed(broker))} it does not subscribe to"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_list_names_exactly_what_the_contract_says_the_service_sends(service: str) -> None:
    document = asyncapi.document(service)
    sent = {
        document["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
        for op in document["operations"].values()
        if op["action"] == "send"
    }
    assert set(TopicNames().for_service(service).produces) == sent


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_waits_for_every_topic_of_its_list(service: str) -> None:
    if service == "auth-service":
        from auth_service.composition import build_components
        from auth_service.settings import Settings as AuthSettings

        waits_for = build_components(AuthSettings(topic_prefix=PREFIX)).infra.topics
    elif service.startswith("publisher-"):
        app, _ = _built(service)
        waits_for = runtime_of(app).infra.topics
    else:
        app, _ = _built(service)
        waits_for = app.state.infra.topics
    assert set(waits_for) == set(NAMES.for_service(service).names)
