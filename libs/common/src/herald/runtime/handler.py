"""The use case behind every publisher: one `post.requested` in, a disposition out.

It sees only ports (platform, ledger, tokens) and returns what should happen to the message (stay,
go to a delay tier, go to the dead-letter topic) and which result events to emit; the transport
carries that out in the safe order: route, emit, commit.

Handling has two halves. `start` takes the target's lease and runs the platform flow; it returns
`settle`, which writes the outcome to the ledger, releases the lease and gives the disposition.
The transport may settle one message while it starts the next one of the same partition (the
platform's work, not the bookkeeping, is what should keep a partition busy); `handle` does both
in a row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import structlog

from herald.delivery import Delivery
from herald.errors import NeedsReauth, Permanent, PlatformError, Unknown
from herald.events import (
    Event,
    FailureDetail,
    PostFailed,
    PostProgressed,
    PostPublished,
    PostRequested,
    PostRetryScheduled,
    RecipientOutcome,
    RetryReason,
)
from herald.ledger import EntryState, Lease, Ledger, LedgerEntry
from herald.policy import DeferUntil, GiveUp, RetryAt, RetryPolicy, decide, may_wait, tier_for
from herald.remediation import final as final_remediation
from herald.runtime.ports import Checkpoint, Outcome, PlatformAdapter, Published, TokenSource, Wait
from herald.runtime.progress import ProgressReporter, ProgressSink

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ToTier:
    tier: str
    due_at: datetime
    attempt: int
    reason: RetryReason
    first_failure_at: datetime | None
    checkpoint: str | None


@dataclass(frozen=True)
class ToDeadLetter:
    error: dict[str, str | None]


@dataclass(frozen=True)
class Disposition:
    """`outcome` is the metric label: published, republished, refailed, retry, deferred, wait,
    busy, failed, dead_lettered."""

    outcome: str
    route: ToTier | ToDeadLetter | None = None
    events: tuple[Event, ...] = ()
    category: str | None = None


Settle = Callable[[], Awaitable[Disposition]]
"""The second half of a handling: ledger writes, lease release; the disposition."""


def _settled(disposition: Disposition) -> Settle:
    async def settle() -> Disposition:
        return disposition

    return settle


@dataclass
class PublishHandler:
    platform: PlatformAdapter
    ledger: Ledger
    tokens: TokenSource
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    busy_retry_s: float = 10.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Where a flow's reports within a handling go (`Checkpoint.report`); None: nowhere.
    progress: ProgressSink | None = None

    async def handle(self, request: PostRequested, delivery: Delivery) -> Disposition:
        settle = await self.start(request, delivery)
        return await settle()

    async def start(self, request: PostRequested, delivery: Delivery) -> Settle:
        """Lease the target and run the platform flow; the returned `settle` must be awaited
        (it records the outcome and releases the lease) before the message is committed."""
        opening = getattr(self.platform, "opening", None)  # optional (runtime.ports)
        started = await self.ledger.start(
            request, delivery.attempt, opening(request) if opening is not None else None
        )
        if started is None:
            # Another consumer is working on this target right now; look again shortly.
            due = self.clock() + timedelta(seconds=self.busy_retry_s)
            tier = tier_for(self.busy_retry_s, self.policy.tiers)
            route = ToTier(
                tier,
                due,
                delivery.attempt,
                RetryReason.WAIT,
                delivery.first_failure_at,
                delivery.checkpoint,
            )
            return _settled(Disposition("busy", route))
        lease, entry = started
        try:
            then = await self._start_leased(request, delivery, lease, entry)
        except BaseException:
            await self.ledger.release(lease)
            raise

        async def settle() -> Disposition:
            try:
                return await then()
            finally:
                await self.ledger.release(lease)

        return settle

    async def _start_leased(
        self, request: PostRequested, delivery: Delivery, lease: Lease, entry: LedgerEntry
    ) -> Settle:
        if entry.state is EntryState.PUBLISHED:
            event = self._published_again(request, entry)
            return _settled(Disposition("republished", events=(event,)))
        if entry.state is EntryState.FAILED:
            if delivery.replay_id is None or delivery.replay_id in entry.replays:
                failed = self._failed_again(request, entry)
                return _settled(Disposition("refailed", events=(failed,)))
            entry = await self.ledger.reopen(lease, delivery.replay_id)
            delivery = Delivery(attempt=1, replay_id=delivery.replay_id)
        violations = self.platform.validate(request)
        if violations:
            reasons = "; ".join(f"{v.path}: {v.message}" for v in violations)
            error = Permanent(
                f"the post breaks {request.platform.value}'s rules: {reasons}",
                code="content_rules",
                remediation="Edit the post so it meets the platform's limits, then retry.",
            )
            step = entry.checkpoint_step
            return partial(self._on_error, error, request, delivery, lease, step)
        checkpoint = Checkpoint(
            entry.checkpoint_step,
            entry.checkpoint,
            partial(self.ledger.save_checkpoint, lease),
            first=entry.fresh,
            reporter=self._reporter(request, delivery),
        )
        try:
            outcome = await self._publish(request, checkpoint)
        except PlatformError as error:
            return partial(self._on_error, error, request, delivery, lease, checkpoint.step)
        return partial(self._on_outcome, outcome, request, delivery, lease)

    def _reporter(self, request: PostRequested, delivery: Delivery) -> ProgressReporter | None:
        if self.progress is None:
            return None
        return ProgressReporter(self.progress, request, delivery.attempt, self.clock)

    async def _publish(self, request: PostRequested, checkpoint: Checkpoint) -> Outcome:
        credentials = await self.tokens.get(request.integration_id, request.business_id)
        try:
            return await self.platform.publish(request, credentials, checkpoint)
        except NeedsReauth as first:
            log.info("token.refresh_requested", code=first.code, subcode=first.subcode)
            credentials = await self.tokens.refresh(request.integration_id, request.business_id)
            return await self.platform.publish(request, credentials, checkpoint)

    async def _on_outcome(
        self, outcome: Outcome, request: PostRequested, delivery: Delivery, lease: Lease
    ) -> Disposition:
        now = self.clock()
        if isinstance(outcome, Published):
            result = {
                "platform_post_id": outcome.platform_post_id,
                "permalink": outcome.permalink,
                "published_at": now,
                "attempt": delivery.attempt,
                "recipients": [r.model_dump() for r in outcome.recipients],
            }
            await self.ledger.complete(lease, result)
            event = _published(request, result)
            return Disposition("published", events=(event,))
        assert isinstance(outcome, Wait)
        until = now + timedelta(seconds=outcome.delay_s)
        started = delivery.first_failure_at or now
        if not may_wait(now, until, started, self.policy):
            error = Unknown(
                f"the platform was still processing after the longest wait ({outcome.detail})",
                code="wait_exhausted",
                remediation="Check the post on the platform; retry it if it is not there.",
            )
            return await self._on_error(error, request, delivery, lease, outcome.step)
        tier = tier_for(outcome.delay_s, self.policy.tiers)
        route = ToTier(tier, until, delivery.attempt, RetryReason.WAIT, started, outcome.step)
        # What the target reads while the platform works: its stage (ADR 0018).
        progressed = PostProgressed(
            **_ref(request),
            stage=outcome.stage,
            detail=outcome.detail[:300] or None,
            bytes_sent=outcome.bytes_sent,
            bytes_total=outcome.bytes_total,
            attempt=delivery.attempt,
            reported_at=now,
        )
        return Disposition("wait", route, (progressed,))

    async def _on_error(
        self,
        error: PlatformError,
        request: PostRequested,
        delivery: Delivery,
        lease: Lease,
        step: str | None,
    ) -> Disposition:
        now = self.clock()
        decision = decide(
            error,
            attempt=delivery.attempt,
            now=now,
            first_failure_at=delivery.first_failure_at,
            policy=self.policy,
        )
        detail = _detail(error)
        category = error.category.value
        if isinstance(decision, RetryAt | DeferUntil):
            reason = RetryReason.RETRY if isinstance(decision, RetryAt) else RetryReason.WAIT
            started = delivery.first_failure_at or now
            route = ToTier(decision.tier, decision.at, decision.attempt, reason, started, step)
            event = PostRetryScheduled(
                **_ref(request),
                next_attempt=decision.attempt,
                reason=reason,
                next_attempt_at=decision.at,
                tier=decision.tier,
                error=detail,
            )
            outcome = "retry" if reason is RetryReason.RETRY else "deferred"
            return Disposition(outcome, route, (event,), category)
        assert isinstance(decision, GiveUp)
        # What a person can do now: no retry follows, so none may be promised (herald.remediation).
        ending = final_remediation(
            error,
            integration_id=request.integration_id,
            platform=request.platform.value,
            attempt=delivery.attempt,
            reason=decision.reason,
        )
        detail = detail.model_copy(update={"remediation": ending})
        stored = {
            **detail.model_dump(mode="json"),
            "attempt": delivery.attempt,
            "evidence": error.evidence,
            "failed_at": now,
        }
        await self.ledger.fail(lease, stored)
        failed = _failed(request, stored)
        if decision.dead_letter:
            dead = ToDeadLetter(
                {
                    "category": category,
                    "code": error.code,
                    "subcode": error.subcode,
                    "message": error.message,
                    "reason": decision.reason,
                    "attempt": str(delivery.attempt),
                }
            )
            return Disposition("dead_lettered", dead, (failed,), category)
        return Disposition("failed", None, (failed,), category)

    def _published_again(self, request: PostRequested, entry: LedgerEntry) -> PostPublished:
        return _published(request, entry.result or {})

    def _failed_again(self, request: PostRequested, entry: LedgerEntry) -> PostFailed:
        return _failed(request, entry.error or {})


def _ref(request: PostRequested) -> dict[str, Any]:
    return {
        "post_id": request.post_id,
        "target_id": request.target_id,
        "business_id": request.business_id,
        "integration_id": request.integration_id,
        "platform": request.platform,
    }


def _detail(error: PlatformError) -> FailureDetail:
    return FailureDetail(
        category=error.category,
        code=error.code,
        subcode=error.subcode,
        message=error.message,
        remediation=error.remediation,
    )


def _published(request: PostRequested, result: dict[str, Any]) -> PostPublished:
    return PostPublished(
        **_ref(request),
        attempt=int(result.get("attempt") or 1),
        platform_post_id=result.get("platform_post_id"),
        permalink=result.get("permalink"),
        published_at=_aware(result.get("published_at")),
        recipients=[RecipientOutcome.model_validate(r) for r in result.get("recipients", [])],
    )


def _failed(request: PostRequested, stored: dict[str, Any]) -> PostFailed:
    return PostFailed(
        **_ref(request),
        attempt=int(stored.get("attempt") or 1),
        final=True,
        error=FailureDetail.model_validate(stored),
        failed_at=_aware(stored.get("failed_at")),
        evidence=dict(stored.get("evidence") or {}),
        recipients=_recipients(stored.get("evidence") or {}),
    )


def _recipients(evidence: dict[str, Any]) -> list[RecipientOutcome]:
    """A batch adapter (WhatsApp) puts every recipient's outcome in its error's evidence; the
    failure event carries them as its `recipients`."""
    found = evidence.get("recipients")
    if not isinstance(found, list):
        return []
    return [RecipientOutcome.model_validate(r) for r in found if isinstance(r, dict)]


def _aware(moment: Any) -> datetime:
    if not isinstance(moment, datetime):
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
