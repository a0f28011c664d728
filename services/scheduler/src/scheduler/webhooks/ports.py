"""What the scheduler's use cases call to tell a business something (`scheduler.webhooks`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from herald.events import IntegrationEvent, PostFailed, PostPublished, PostRetryScheduled
from scheduler.models import Post, Target


class Notices(Protocol):
    async def accepted(self, post: Post, targets: Sequence[Target]) -> None:
        """A submission became a post (its targets as stored)."""
        ...

    async def result(
        self,
        result: PostPublished | PostFailed | PostRetryScheduled,
        *,
        event_id: str,
        target: Target,
    ) -> None:
        """A publisher's result was recorded for one of the business's targets; `target` as
        the record left it."""
        ...

    async def cancelled(self, post: Post) -> None:
        """A person cancelled targets of the post."""
        ...

    async def failed_here(self, target_id: str) -> None:
        """The scheduler failed a target itself, after storing it as failed."""
        ...

    async def integration(self, event: IntegrationEvent, *, event_id: str) -> None:
        """auth-service reported a change of a connected account."""
        ...
