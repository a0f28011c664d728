"""Insights snapshots become events before they are marked collected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.errors import Permanent
from herald.events import PostInsightsCollected, PostInsightsUnavailable
from herald.insights import InsightsSnapshot, PublishedPost, PublishingSink, numeric_metrics
from herald.testing import RecordingEmitter

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
POST = PublishedPost(
    target_id="t1",
    post_id="p1",
    business_id="b1",
    integration_id="i1",
    platform="instagram",
    platform_post_id="1789",
    published_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
)


class RecordingStore:
    def __init__(self, emitter: RecordingEmitter) -> None:
        self.stored: list[InsightsSnapshot] = []
        self._emitter = emitter
        self.events_before_store: list[int] = []

    async def emit(self, snapshot: InsightsSnapshot) -> None:
        self.events_before_store.append(len(self._emitter.emitted))
        self.stored.append(snapshot)


async def test_the_event_is_emitted_before_the_snapshot_is_recorded() -> None:
    emitter = RecordingEmitter()
    store = RecordingStore(emitter)
    sink = PublishingSink(store, emitter, topic="post.insights")
    snapshot = InsightsSnapshot(POST, 3600, NOW, {"views": 120, "reach": 80, "saved": 3})

    await sink.emit(snapshot)

    [emitted] = emitter.emitted
    assert (emitted.topic, emitted.key) == ("post.insights", "p1")
    assert isinstance(emitted.event, PostInsightsCollected)
    assert emitted.event.age_s == 3600
    assert emitted.event.metrics == {"views": 120.0, "reach": 80.0, "saved": 3.0}
    assert store.events_before_store == [1]


async def test_a_failed_emit_records_nothing() -> None:
    emitter = RecordingEmitter(fail_with=ConnectionError("broker away"))
    store = RecordingStore(emitter)
    with pytest.raises(ConnectionError):
        await PublishingSink(store, emitter, topic="post.insights").emit(
            InsightsSnapshot(POST, 60, NOW, {})
        )
    assert store.stored == []


def test_numeric_metrics_keep_numbers_and_one_level_of_breakdown() -> None:
    raw = {
        "views": 10,
        "ratio": 0.5,
        "ok": True,
        "name": "x",
        "reactions": {"like": 3, "love": 1, "bad": "?"},
        "empty": {},
    }
    assert numeric_metrics(raw) == {
        "views": 10.0,
        "ratio": 0.5,
        "reactions": {"like": 3.0, "love": 1.0},
    }


async def test_a_snapshot_the_platform_will_not_give_is_told_with_its_reason() -> None:
    emitter = RecordingEmitter()
    sink = PublishingSink(RecordingStore(emitter), emitter, topic="post.insights")
    refusal = Permanent("(#10) Not enough viewers for the media to show insights", code="10")

    await sink.unavailable(POST, 3600, refusal, NOW)

    [emitted] = emitter.emitted
    assert isinstance(emitted.event, PostInsightsUnavailable)
    assert (emitted.topic, emitted.key, emitted.event.age_s) == ("post.insights", "p1", 3600)
    assert (emitted.event.error.code, emitted.event.error.category.value) == ("10", "permanent")
    assert emitted.event.error.message.startswith("(#10) Not enough viewers")
