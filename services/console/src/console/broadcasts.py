"""What the Broadcasts page shows of a WhatsApp post sent to an audience: whether it is still
being sent (the page then polls it), how far it got, and its funnel (sent, delivered, read,
failed, with what else the scheduler counts). Pure: the routes fetch, this decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.audiences_client import BroadcastSummary, Counts, WhatsAppPost, WhatsAppTarget

ENDED = {"published", "partially_published", "failed", "cancelled"}
# A sent broadcast's receipts (sent, delivered, read) come one after another after WhatsApp
# accepted its messages: the page keeps polling while some recipient's could still move on
# (accepted, sent or delivered, not yet read), for this long after it was sent. (It once stopped
# at the first read with none left only accepted, and missed the delivered and read that came
# seconds later.) A recipient who never reads is never awaited beyond this.
SETTLING = timedelta(minutes=10)
AWAITING_RECEIPTS = ("accepted", "sent", "delivered")
# The funnel's steps in order, as the scheduler counts them (`sent` and `delivered` count those
# that got at least that far), and the states outside it that the page names when present.
STEPS = ("sent", "delivered", "read", "failed")
OTHER_STATES = {
    "pending": "Waiting to be sent",
    "accepted": "Accepted by WhatsApp, no status yet",
    "skipped": "Skipped (a template value missing or too long)",
    "cancelled": "Cancelled",
}
EXCLUDED = {
    "not_opted_in": "Not opted in",
    "opted_out": "Opted out",
    "undeliverable": "Undeliverable",
}
STATUS_WORDS = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "publishing": "Sending",
    "published": "Sent",
    "partially_published": "Partly sent",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


@dataclass(frozen=True)
class Step:
    name: str
    count: int
    rate: str | None  # "80% of sent", None when there is nothing under it


@dataclass(frozen=True)
class BroadcastView:
    post_id: str
    target_id: str
    audience_id: str | None
    audience_name: str | None
    status: str
    status_word: str
    due_at: datetime
    running: bool  # due and not ended
    settling: bool  # sent lately, some recipients' receipts could still come
    waiting: bool  # not due yet
    recipients: int
    done: int  # recipients no longer waiting to be sent
    percent: int
    batches: int | None
    steps: list[Step]
    others: list[tuple[str, int]]
    excluded: list[tuple[str, int]]
    error: str | None

    @property
    def polled(self) -> bool:
        """Whether the page re-reads it every few seconds."""
        return self.running or self.settling


def broadcast_target(post: WhatsAppPost) -> WhatsAppTarget | None:
    return next((t for t in post.targets if t.role == "broadcast"), None)


def broadcast_view(
    post: WhatsAppPost, names: Mapping[str, str], now: datetime
) -> BroadcastView | None:
    """The post's broadcast as the page shows it; None if it broadcasts to no audience."""
    target = broadcast_target(post)
    if target is None:
        return None
    counts = (
        target.recipients
        or post.recipients
        or Counts(recipients=0, sent=0, delivered=0, read=0, failed=0)
    )
    pending = counts.by_state.get("pending", 0)
    done = max(counts.recipients - pending, 0)
    summary = target.broadcast
    audience_id = summary.audience_id if summary else None
    ended = post.status in ENDED
    sent_at = target.published_at or post.due_at
    settling = (
        post.status in ("published", "partially_published")
        and any(counts.by_state.get(state, 0) > 0 for state in AWAITING_RECEIPTS)
        and now - sent_at < SETTLING
    )
    return BroadcastView(
        post_id=post.post_id,
        target_id=target.target_id,
        audience_id=audience_id,
        audience_name=names.get(audience_id or ""),
        status=post.status,
        status_word=STATUS_WORDS.get(post.status, post.status),
        due_at=post.due_at,
        running=not ended and post.status != "draft" and post.due_at <= now,
        settling=settling,
        waiting=not ended and post.due_at > now,
        recipients=counts.recipients,
        done=done,
        percent=done * 100 // counts.recipients if counts.recipients else 0,
        batches=summary.batches if summary else None,
        steps=funnel(counts),
        others=[(w, counts.by_state[s]) for s, w in OTHER_STATES.items() if counts.by_state.get(s)],
        excluded=[(w, n) for k, w in EXCLUDED.items() if (n := _excluded(summary, k))],
        error=target.last_error.message if target.last_error else None,
    )


def funnel(counts: Counts) -> list[Step]:
    """Each step with its rate over the step before (failed: over every recipient)."""
    over = {
        "sent": (counts.recipients, "of recipients"),
        "delivered": (counts.sent, "of sent"),
        "read": (counts.delivered, "of delivered"),
        "failed": (counts.recipients, "of recipients"),
    }
    steps = []
    for name in STEPS:
        value: int = getattr(counts, name)
        base, word = over[name]
        steps.append(Step(name, value, f"{value * 100 // base}% {word}" if base else None))
    return steps


def _excluded(summary: BroadcastSummary | None, key: str) -> int:
    return 0 if summary is None else summary.excluded.get(key, 0)
