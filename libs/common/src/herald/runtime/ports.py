"""What the runtime needs from a platform adapter and from the token source.

A platform adapter classifies every failure into `herald.errors` and returns one of two outcomes:
`Published`, or `Wait` when the platform needs time (processing) and the flow should resume from
its checkpoint later. It persists progress through `Checkpoint.save` before each step that must
not be repeated, so a redelivery resumes there, and may tell the target's reader where it is
meanwhile through `Checkpoint.report` (best-effort, `herald.runtime.progress`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from herald.events import PostRequested, ProcessingStage, RecipientOutcome, Violation
from herald.runtime.progress import Report
from herald.topics import Platform


@dataclass(frozen=True)
class Credentials:
    access_token: str = field(repr=False)
    account_id: str
    account: Mapping[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Published:
    platform_post_id: str | None
    permalink: str | None = None
    recipients: tuple[RecipientOutcome, ...] = ()


@dataclass(frozen=True)
class Wait:
    """Come back in `delay_s`; `step` names the checkpoint the flow will resume from. `stage`
    (and the bytes, while uploading) is what the target reads meanwhile (ADR 0018)."""

    delay_s: float
    step: str
    detail: str = ""
    stage: ProcessingStage = ProcessingStage.PROCESSING
    bytes_sent: int | None = None
    bytes_total: int | None = None


Outcome = Published | Wait


class Checkpoint:
    """The flow's saved progress. `save` persists before the caller takes its next step.

    `first` is True only when no earlier handling of this target began (the ledger entry was
    created by this one), so nothing of it can have reached the platform; when it is False, an
    empty checkpoint may still follow a handling that acted and died before saving.

    `reporter` (the runtime's `ProgressReporter`) takes what `report` says; without one (a test
    that drives a flow alone) reports go nowhere."""

    def __init__(
        self,
        step: str | None,
        data: Mapping[str, Any],
        saver: Callable[[str, dict[str, Any]], Awaitable[None]],
        *,
        first: bool = False,
        reporter: Callable[[Report], Awaitable[None]] | None = None,
    ) -> None:
        self.step = step
        self.data: dict[str, Any] = dict(data)
        self.first = first
        self._saver = saver
        self._reporter = reporter

    async def save(self, step: str, **data: Any) -> None:
        self.data.update(data)
        self.step = step
        await self._saver(step, dict(self.data))

    async def report(
        self,
        stage: ProcessingStage,
        *,
        detail: str = "",
        bytes_sent: int | None = None,
        bytes_total: int | None = None,
    ) -> None:
        """Tell the target's reader the stage the flow is in now, within this handling (ADR
        0018): an upload's bytes, the publish call. Best-effort and rate-bounded: it never raises
        a failure to report, and may drop a report that comes too soon after the last one."""
        if self._reporter is not None:
            await self._reporter(Report(stage, detail, bytes_sent, bytes_total))


class PlatformAdapter(Protocol):
    """An adapter may also define `opening(request) -> herald.ledger.Opening | None`: the
    checkpoint its flow saves before its first platform call, when the request alone decides it
    (Facebook's `feed_call_started`). A target's first handling then gets its ledger entry with
    that checkpoint already in it (`Checkpoint.first` and the step set), one store update less;
    the flow must not look for traces of an earlier try when `first` is set."""

    name: Platform

    def validate(self, request: PostRequested) -> list[Violation]:
        """Content rules checked again before any platform call."""
        ...

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        """Run (or resume) the platform flow; raise a `herald.errors.PlatformError` on failure."""
        ...


class TokenSource(Protocol):
    async def get(self, integration_id: str, business_id: str) -> Credentials: ...

    async def refresh(self, integration_id: str, business_id: str) -> Credentials: ...
