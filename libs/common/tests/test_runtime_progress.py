"""Progress a flow reports within one handling (ADR 0018): emitted with the target's reference,
bounded in rate, and never able to fail or repeat a publish."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from herald.content import FacebookOptions, PostContent
from herald.delivery import Delivery
from herald.events import PostProgressed, PostPublished, PostRequested, ProcessingStage, Violation
from herald.ledger import EntryState
from herald.policy import RetryPolicy
from herald.runtime.handler import PublishHandler
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published
from herald.runtime.progress import ProgressReporter, Report
from herald.testing import InMemoryLedger, StaticTokens
from herald.topics import Platform

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TOTAL = 4_000


def request() -> PostRequested:
    return PostRequested(
        post_id="p1",
        target_id="t1",
        business_id="b1",
        integration_id="i1",
        platform=Platform.FACEBOOK,
        content=PostContent(text="hello"),
        options=FacebookOptions(),
        due_at=NOW,
        requested_at=NOW,
    )


@dataclass
class Uploading:
    """A flow that sends four chunks, reporting each, then publishes."""

    name: Platform = Platform.FACEBOOK
    calls: int = 0

    def validate(self, request: PostRequested) -> list[Violation]:
        return []

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        self.calls += 1
        for sent in range(1_000, TOTAL + 1, 1_000):
            stage = ProcessingStage.UPLOADING
            await checkpoint.report(stage, detail="chunk", bytes_sent=sent, bytes_total=TOTAL)
        await checkpoint.report(ProcessingStage.PUBLISHING, detail="publish call")
        return Published("123_456")


@dataclass
class Sink:
    events: list[PostProgressed] = field(default_factory=list)
    fail_with: Exception | None = None
    hold: asyncio.Event | None = None

    async def __call__(self, event: PostProgressed) -> None:
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.events.append(event)


def handler(sink: Sink, platform: Uploading) -> tuple[PublishHandler, InMemoryLedger]:
    ledger = InMemoryLedger()
    made = PublishHandler(
        platform=platform,
        ledger=ledger,
        tokens=StaticTokens(),
        policy=RetryPolicy(jitter=0.0),
        clock=lambda: NOW,
        progress=sink,
    )
    return made, ledger


async def test_reports_within_a_handling_reach_the_sink_with_the_targets_reference() -> None:
    sink = Sink()
    made, _ = handler(sink, Uploading())

    result = await made.handle(request(), Delivery(attempt=2))

    assert result.outcome == "published"
    # The four chunks come faster than the bound: the first is sent, the stage change too.
    [uploading, publishing] = sink.events
    assert (uploading.stage, uploading.bytes_sent, uploading.bytes_total) == (
        ProcessingStage.UPLOADING,
        1_000,
        TOTAL,
    )
    assert (publishing.stage, publishing.detail, publishing.bytes_sent) == (
        ProcessingStage.PUBLISHING,
        "publish call",
        None,
    )
    assert {(e.post_id, e.target_id, e.business_id, e.attempt) for e in sink.events} == {
        ("p1", "t1", "b1", 2)
    }


async def test_reports_of_one_stage_are_at_most_one_per_interval() -> None:
    sink = Sink()
    ticks = iter([0.0, 0.2, 0.6, 0.7, 1.2])
    reporter = ProgressReporter(sink, request(), 1, lambda: NOW, monotonic=lambda: next(ticks))

    for sent in (1, 2, 3, 4, 5):
        await reporter(Report(ProcessingStage.UPLOADING, bytes_sent=sent, bytes_total=5))

    assert [e.bytes_sent for e in sink.events] == [1, 3, 5]


async def test_a_report_that_cannot_be_emitted_neither_fails_nor_repeats_the_publish() -> None:
    sink = Sink(fail_with=ConnectionError("Kafka away"))
    platform = Uploading()
    made, ledger = handler(sink, platform)

    result = await made.handle(request(), Delivery())

    assert result.outcome == "published"
    assert [type(e) for e in result.events] == [PostPublished]
    assert platform.calls == 1
    assert ledger.entries["t1"].state is EntryState.PUBLISHED


async def test_a_slow_report_is_not_waited_for_nor_cut_and_holds_back_the_next() -> None:
    sink = Sink(hold=asyncio.Event())
    ticks = iter([0.0, 1.0, 2.0])
    reporter = ProgressReporter(
        sink, request(), 1, lambda: NOW, timeout_s=0.01, monotonic=lambda: next(ticks)
    )

    await reporter(Report(ProcessingStage.UPLOADING, bytes_sent=1, bytes_total=3))
    await reporter(Report(ProcessingStage.UPLOADING, bytes_sent=2, bytes_total=3))
    assert sink.events == []  # the flow went on; the first is still being sent
    assert sink.hold is not None
    sink.hold.set()
    await asyncio.sleep(0)  # the first one's send, not cancelled, completes
    await reporter(Report(ProcessingStage.UPLOADING, bytes_sent=3, bytes_total=3))

    assert [e.bytes_sent for e in sink.events] == [1, 3]  # the second was dropped


async def test_a_checkpoint_without_a_reporter_takes_reports_silently() -> None:
    saved: list[str] = []

    async def save(step: str, data: dict[str, object]) -> None:
        saved.append(step)

    checkpoint = Checkpoint(None, {}, save)
    await checkpoint.report(ProcessingStage.UPLOADING, bytes_sent=1, bytes_total=2)

    assert (checkpoint.step, saved) == (None, [])
