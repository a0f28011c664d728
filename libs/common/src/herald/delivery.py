"""Headers that carry a message through delay tiers and into the dead-letter topic.

A deferred message keeps its key, its body and its CloudEvents headers, and gains:
`x-attempt` (the attempt it will run as), `x-due-at` (epoch ms), `x-reason` (`retry`/`wait`),
`x-first-failure-at` (epoch ms), `x-checkpoint` (the ledger step it resumes from) and
`x-origin-topic`. A dead letter gains `x-error-*` headers saying why it was given up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

ATTEMPT = "x-attempt"
DUE_AT = "x-due-at"
REASON = "x-reason"
FIRST_FAILURE_AT = "x-first-failure-at"
CHECKPOINT = "x-checkpoint"
ORIGIN_TOPIC = "x-origin-topic"
REPLAYED_FROM = "x-replayed-from"
REPLAY_ID = "x-replay-id"
ERROR_PREFIX = "x-error-"
DELIVERY_HEADERS = (ATTEMPT, DUE_AT, REASON, FIRST_FAILURE_AT, CHECKPOINT, ORIGIN_TOPIC)


def to_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def from_ms(value: str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


@dataclass(frozen=True)
class Delivery:
    """Where a message stands in its retry life, read from its headers."""

    attempt: int = 1
    due_at: datetime | None = None
    reason: str | None = None
    first_failure_at: datetime | None = None
    checkpoint: str | None = None
    replay_id: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Delivery:
        """Tolerant: a malformed delivery header is treated as absent, never fatal."""
        return cls(
            attempt=_int(headers.get(ATTEMPT), default=1),
            due_at=_time(headers.get(DUE_AT)),
            reason=headers.get(REASON),
            first_failure_at=_time(headers.get(FIRST_FAILURE_AT)),
            checkpoint=headers.get(CHECKPOINT),
            replay_id=headers.get(REPLAY_ID),
        )


def deferred_headers(
    original: Mapping[str, str],
    *,
    attempt: int,
    due_at: datetime,
    reason: str,
    first_failure_at: datetime | None,
    checkpoint: str | None,
    origin_topic: str,
) -> dict[str, str]:
    headers = {k: v for k, v in original.items() if k not in DELIVERY_HEADERS}
    headers.update({ATTEMPT: str(attempt), DUE_AT: to_ms(due_at), REASON: reason})
    headers[ORIGIN_TOPIC] = original.get(ORIGIN_TOPIC, origin_topic)
    if first_failure_at is not None:
        headers[FIRST_FAILURE_AT] = to_ms(first_failure_at)
    if checkpoint:
        headers[CHECKPOINT] = checkpoint
    return headers


def dead_letter_headers(
    original: Mapping[str, str],
    *,
    error: Mapping[str, str | None],
    source_topic: str,
    partition: int,
    offset: int,
    failed_at: datetime,
) -> dict[str, str]:
    """`error` holds category, code, message, reason...; each becomes `x-error-<name>`."""
    headers = dict(original)
    for name, value in error.items():
        if value is not None:
            headers[f"{ERROR_PREFIX}{name}"] = value[:1000]
    headers.update(
        {
            f"{ERROR_PREFIX}topic": source_topic,
            f"{ERROR_PREFIX}partition": str(partition),
            f"{ERROR_PREFIX}offset": str(offset),
            f"{ERROR_PREFIX}at": to_ms(failed_at),
        }
    )
    return headers


def _int(value: str | None, *, default: int) -> int:
    try:
        return max(int(value), 1) if value is not None else default
    except ValueError:
        return default


def _time(value: str | None) -> datetime | None:
    try:
        return from_ms(value) if value else None
    except (ValueError, OverflowError, OSError):
        return None
