"""Progress reported while a platform flow runs (ADR 0018): an upload's bytes, the publish call.

A `Wait` reports the stage a target waits in, once per handling. Some stages happen inside one
handling instead: a TikTok FILE_UPLOAD sends its chunks, an Instagram container that is ready is
published. The flow reports them through `Checkpoint.report`; `ProgressReporter` turns each into
a `herald.post.progressed.v1` and hands it to the sink (the runtime emits it on `post.results`).

Progress is best-effort and never changes delivery: a report that cannot be emitted (Kafka
away) is logged and dropped, and the flow goes on; nothing of the handling depends on it. The
flow waits for a report at most `timeout_s`; one still being sent then finishes on its own (it
is not cancelled: a send cut short may be renewing the broker's producer, `herald.producing`),
and while it does, later reports are dropped, so at most one is in flight per handling. Reports
are bounded: one is sent when the stage changes, otherwise at most one per `min_interval_s` (an
upload of many small chunks reports a few times a second, not once per chunk), so progress
never floods the results topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from herald.events import PostProgressed, PostRequested, ProcessingStage

log = structlog.get_logger(__name__)

ProgressSink = Callable[[PostProgressed], Awaitable[None]]
"""Where a report goes: the runtime emits it on `post.results`, keyed by the post."""


@dataclass(frozen=True)
class Report:
    stage: ProcessingStage
    detail: str = ""
    bytes_sent: int | None = None
    bytes_total: int | None = None


@dataclass
class ProgressReporter:
    """Reports of one handling of one target, at a bounded rate, never failing the flow."""

    sink: ProgressSink
    request: PostRequested
    attempt: int
    clock: Callable[[], datetime]
    min_interval_s: float = 0.5
    timeout_s: float = 2.0
    monotonic: Callable[[], float] = time.monotonic
    _last_stage: ProcessingStage | None = field(default=None, init=False)
    _last_at: float | None = field(default=None, init=False)
    _sending: asyncio.Task[None] | None = field(default=None, init=False)

    async def __call__(self, report: Report) -> None:
        now = self.monotonic()
        same_stage = report.stage is self._last_stage
        if same_stage and self._last_at is not None and now - self._last_at < self.min_interval_s:
            return
        if self._sending is not None and not self._sending.done():
            log.warning("post.progress_dropped", stage=report.stage.value, error="still sending")
            return
        self._last_stage, self._last_at = report.stage, now
        request = self.request
        event = PostProgressed(
            post_id=request.post_id,
            target_id=request.target_id,
            business_id=request.business_id,
            integration_id=request.integration_id,
            platform=request.platform,
            stage=report.stage,
            detail=report.detail[:300] or None,
            bytes_sent=report.bytes_sent,
            bytes_total=report.bytes_total,
            attempt=self.attempt,
            reported_at=self.clock(),
        )
        self._sending = asyncio.create_task(self._send(event), name=f"progress:{request.target_id}")
        await asyncio.wait([self._sending], timeout=self.timeout_s)

    async def _send(self, event: PostProgressed) -> None:
        try:
            await self.sink(event)
        except Exception as error:  # noqa: BLE001 - best-effort: the publish goes on without it
            log.warning(
                "post.progress_dropped",
                stage=event.stage.value,
                error=f"{type(error).__name__}: {error}"[:300],
            )
