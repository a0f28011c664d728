"""The scheduler reads `post.results` with several consumers of its group (ADR 0026), each
reading its share of the partitions one record at a time, and its other topics with one."""

from __future__ import annotations

from typing import Any, cast

import pytest
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from herald.topics import TopicNames
from scheduler.handlers.base import Deps
from scheduler.settings import IngestSettings, Settings
from scheduler.subscribers import Subscribers

pytestmark = pytest.mark.unit

NONE = cast(Any, None)  # registering reads only the topic names


def consumers_by_topic(results_consumers: int) -> dict[str, tuple[str, int]]:
    names = TopicNames(prefix="t.")
    deps = Deps(
        posts=NONE,
        dispatch=NONE,
        view=NONE,
        integrations=NONE,
        campaigns=NONE,
        audiences=NONE,
        recipients=NONE,
        emitter=NONE,
        names=names,
    )
    broker = KafkaBroker("127.0.0.1:1")  # never connected
    subscribers = Subscribers(
        deps, NONE, NONE, IngestSettings(), results_consumers=results_consumers
    )
    try:
        subscribers.register(broker, group="g")
    finally:
        subscribers.close()
    found = {}
    for subscriber in broker.subscribers:
        topic = cast(Any, subscriber).topics[0].name
        found[topic] = (type(subscriber).__name__, getattr(subscriber, "max_workers", 1))
    return found


def test_results_are_read_by_the_configured_number_of_consumers() -> None:
    found = consumers_by_topic(Settings().results_consumers)
    assert found["t.post.results"] == ("ConcurrentBetweenPartitionsSubscriber", 4)
    for topic in ("t.post.submitted", "t.integration.events", "t.message.status"):
        assert found[topic] == ("DefaultSubscriber", 1), topic
    assert consumers_by_topic(1)["t.post.results"] == ("DefaultSubscriber", 1)


def test_a_number_of_consumers_out_of_range_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_SCHEDULER_RESULTS_CONSUMERS", "0")
    with pytest.raises(ValidationError, match="results_consumers"):
        Settings()
    monkeypatch.setenv("HERALD_SCHEDULER_RESULTS_CONSUMERS", "6")
    assert Settings().results_consumers == 6
