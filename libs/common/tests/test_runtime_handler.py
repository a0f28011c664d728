"""The publisher use case with fakes: every path from a request to a disposition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.content import FacebookOptions, PostContent
from herald.delivery import Delivery
from herald.errors import NeedsReauth, Permanent, Throttled, Transient
from herald.events import (
    PostFailed,
    PostProgressed,
    PostPublished,
    PostRequested,
    PostRetryScheduled,
    ProcessingStage,
    RetryReason,
    Violation,
)
from herald.ledger import EntryState
from herald.policy import RetryPolicy
from herald.runtime.handler import Disposition, PublishHandler, ToDeadLetter, ToTier
from herald.runtime.ports import Published, Wait
from herald.testing import InMemoryLedger, ScriptedPlatform, StaticTokens
from herald.topics import Platform

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def request(target: str = "t1") -> PostRequested:
    return PostRequested(
        post_id="p1",
        target_id=target,
        business_id="b1",
        integration_id="i1",
        platform=Platform.FACEBOOK,
        content=PostContent(text="hello"),
        options=FacebookOptions(),
        due_at=NOW,
        requested_at=NOW,
    )


def make(
    *script: object, tokens: StaticTokens | None = None
) -> tuple[PublishHandler, ScriptedPlatform, InMemoryLedger]:
    platform = ScriptedPlatform(Platform.FACEBOOK, list(script))  # type: ignore[arg-type]  # a script of outcomes and errors
    ledger = InMemoryLedger()
    handler = PublishHandler(
        platform=platform,
        ledger=ledger,
        tokens=tokens or StaticTokens(),
        policy=RetryPolicy(jitter=0.0),
        clock=lambda: NOW,
    )
    return handler, platform, ledger


async def test_published_completes_the_ledger_and_emits_published() -> None:
    handler, _, ledger = make(Published("123_456", "https://facebook.com/123_456"))

    result = await handler.handle(request(), Delivery())

    assert result.outcome == "published"
    assert result.route is None
    [event] = result.events
    assert isinstance(event, PostPublished)
    assert (event.platform_post_id, event.permalink, event.attempt) == (
        "123_456",
        "https://facebook.com/123_456",
        1,
    )
    assert ledger.entries["t1"].state is EntryState.PUBLISHED
    assert ledger.holders == {}


async def test_a_redelivered_published_target_is_not_published_again() -> None:
    handler, platform, _ = make(Published("123_456"))
    await handler.handle(request(), Delivery())

    again = await handler.handle(request(), Delivery())

    assert again.outcome == "republished"
    assert isinstance(again.events[0], PostPublished)
    assert again.events[0].platform_post_id == "123_456"
    assert len(platform.calls) == 1


async def test_a_transient_error_goes_to_the_first_tier_and_says_so() -> None:
    handler, _, ledger = make(Transient("HTTP 503", code="2"))

    result = await handler.handle(request(), Delivery())

    assert result.outcome == "retry"
    assert result.route == ToTier(
        "10s", NOW + timedelta(seconds=10), 2, RetryReason.RETRY, NOW, None
    )
    [event] = result.events
    assert isinstance(event, PostRetryScheduled)
    assert (event.next_attempt, event.tier, event.error and event.error.code) == (2, "10s", "2")
    assert ledger.entries["t1"].state is EntryState.IN_PROGRESS


async def test_the_last_attempt_dead_letters_and_fails_finally() -> None:
    handler, _, ledger = make(Transient("HTTP 503", code="2"))

    result = await handler.handle(request(), Delivery(attempt=4, first_failure_at=NOW))

    assert result.outcome == "dead_lettered"
    assert isinstance(result.route, ToDeadLetter)
    assert result.route.error["category"] == "transient"
    assert result.route.error["reason"] == "gave up after 4 attempts"
    [event] = result.events
    assert isinstance(event, PostFailed)
    assert event.final is True
    assert ledger.entries["t1"].state is EntryState.FAILED


async def test_a_permanent_error_fails_at_once_with_its_remediation() -> None:
    error = Permanent("Duplicate status message", code="506", remediation="Change the text.")
    handler, _, _ = make(error)

    result = await handler.handle(request(), Delivery())

    assert result.outcome == "failed"
    assert result.route is None
    [event] = result.events
    assert isinstance(event, PostFailed)
    assert (event.error.code, event.error.remediation, event.error.category.value) == (
        "506",
        "Change the text.",
        "permanent",
    )


async def test_throttling_defers_on_the_same_attempt() -> None:
    handler, _, _ = make(Throttled("too many calls", code="80001", retry_after_s=120))

    result = await handler.handle(request(), Delivery(attempt=2))

    assert result.outcome == "deferred"
    assert result.route == ToTier(
        "1m", NOW + timedelta(seconds=120), 2, RetryReason.WAIT, NOW, None
    )


async def test_needs_reauth_refreshes_once_and_retries() -> None:
    tokens = StaticTokens(token="old")
    handler, platform, _ = make(NeedsReauth("expired", code="190"), Published("9"), tokens=tokens)

    result = await handler.handle(request(), Delivery())

    assert result.outcome == "published"
    assert tokens.refreshes == 1
    assert [call[0] for call in platform.calls] == ["old", "old-r1"]


async def test_needs_reauth_twice_fails_as_needs_reauth() -> None:
    handler, _, _ = make(
        NeedsReauth("expired", code="190"), NeedsReauth("still expired", code="190")
    )

    result = await handler.handle(request(), Delivery())

    assert result.outcome == "failed"
    assert result.events[0].error.category.value == "needs_reauth"  # type: ignore[attr-defined]  # a PostFailed


async def test_an_expired_integration_fails_without_calling_the_platform() -> None:
    tokens = StaticTokens(fail_with=NeedsReauth("integration expired", code="needs_reauth"))
    handler, platform, _ = make(Published("never"), tokens=tokens)

    result = await handler.handle(request(), Delivery())

    assert result.outcome == "failed"
    assert platform.calls == []


async def test_wait_goes_to_a_tier_with_the_checkpoint_and_resumes_from_it() -> None:
    handler, platform, ledger = make(Wait(30, "container_created", "IN_PROGRESS"), Published("77"))
    platform.save_step = "container_created"

    first = await handler.handle(request(), Delivery())
    assert first.outcome == "wait"
    [progressed] = first.events  # the target reads its stage meanwhile (ADR 0018)
    assert isinstance(progressed, PostProgressed)
    assert (progressed.stage, progressed.detail, progressed.attempt) == (
        ProcessingStage.PROCESSING,
        "IN_PROGRESS",
        1,
    )
    assert first.route == ToTier(
        "10s", NOW + timedelta(seconds=30), 1, RetryReason.WAIT, NOW, "container_created"
    )
    assert ledger.entries["t1"].checkpoint == {"calls": 1}

    second = await handler.handle(
        request(), Delivery(attempt=1, reason="wait", first_failure_at=NOW)
    )
    assert second.outcome == "published"
    assert platform.calls[1][1:] == ("container_created", {"calls": 1})


async def test_content_that_breaks_the_rules_fails_before_any_call() -> None:
    handler, platform, _ = make(Published("never"))
    platform.violations = [Violation(path="content.text", message="Too long.", code="too_long")]

    result = await handler.handle(request(), Delivery())

    assert result.outcome == "failed"
    assert result.events[0].error.code == "content_rules"  # type: ignore[attr-defined]  # a PostFailed
    assert platform.calls == []


async def test_a_target_leased_by_another_consumer_is_deferred_not_dropped() -> None:
    handler, platform, ledger = make(Published("1"))
    await ledger.acquire("t1")

    result = await handler.handle(request(), Delivery(attempt=2))

    assert result == Disposition(
        "busy", ToTier("10s", NOW + timedelta(seconds=10), 2, RetryReason.WAIT, None, None)
    )
    assert platform.calls == []


async def test_a_replay_reopens_a_failed_target_once() -> None:
    handler, platform, ledger = make(Permanent("bad", code="100"), Published("5"))
    await handler.handle(request(), Delivery())
    assert ledger.entries["t1"].state is EntryState.FAILED

    duplicate = await handler.handle(request(), Delivery())
    assert duplicate.outcome == "refailed"

    replayed = await handler.handle(request(), Delivery(attempt=3, replay_id="r1"))
    assert replayed.outcome == "published"
    assert replayed.events[0].attempt == 1  # type: ignore[attr-defined]  # a PostPublished
    again = await handler.handle(request(), Delivery(replay_id="r1"))
    assert again.outcome == "republished"
    assert len(platform.calls) == 2


async def test_a_batch_failure_carries_every_recipient_outcome() -> None:
    outcomes = [
        {
            "recipient_id": "r1",
            "status": "failed",
            "error_code": "131026",
            "remediation": "Check the number.",
        },
        {"recipient_id": "r2", "status": "failed", "error_code": "131050"},
    ]
    error = Permanent("every recipient failed", code="131026", evidence={"recipients": outcomes})
    handler, _, _ = make(error)

    result = await handler.handle(request(), Delivery())

    [event] = result.events
    assert isinstance(event, PostFailed)
    assert [(r.recipient_id, r.error_code, r.remediation) for r in event.recipients] == [
        ("r1", "131026", "Check the number."),
        ("r2", "131050", None),
    ]
