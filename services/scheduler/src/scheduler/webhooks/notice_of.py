"""What each notice of a target says, from the post, the target as recorded and the result
(`Notifier`, ADR 0021): a notice is told only when the target's stored state agrees with it."""

from __future__ import annotations

from typing import Any

from herald.events import PostFailed, PostPublished, PostRetryScheduled, RetryReason
from herald.notices import Notice, TargetFailed, TargetPublished, TargetRetrying
from scheduler.models import Post, Target, TargetState

Result = PostPublished | PostFailed | PostRetryScheduled


def correlation(post: Post) -> dict[str, Any]:
    return {
        "business_id": post.business_id,
        "post_id": post.id,
        "idempotency_key": post.idempotency_key,
        "external_ref": post.external_ref,
        "source_event_id": post.source_event_id,
        "campaign_id": post.campaign_id,
    }


def target_fields(target: Target) -> dict[str, Any]:
    return {
        "target_id": target.id,
        "target_index": target.index,
        "integration_id": target.integration_id,
        "platform": target.platform,
    }


def target_notice(  # noqa: PLR0911 - one return per kind of result and state
    post: Post, target: Target, result: Result
) -> Notice | None:
    fields = {**correlation(post), **target_fields(target)}
    if isinstance(result, PostPublished):
        if target.state is not TargetState.PUBLISHED:
            return None
        return TargetPublished(
            **fields,
            occurred_at=result.published_at,
            attempt=result.attempt,
            platform_post_id=result.platform_post_id,
            permalink=result.permalink,
            published_at=result.published_at,
        )
    if isinstance(result, PostFailed) and result.final:
        if target.state is not TargetState.FAILED:
            return None
        return TargetFailed(
            **fields, occurred_at=result.failed_at, attempt=result.attempt, error=result.error
        )
    if target.state is not TargetState.RETRYING:
        return None
    if isinstance(result, PostFailed):  # not final: the publisher retries
        return TargetRetrying(
            **fields,
            occurred_at=result.failed_at,
            next_attempt=result.attempt + 1,
            next_attempt_at=result.failed_at,
            reason=RetryReason.RETRY,
            error=result.error,
        )
    return TargetRetrying(
        **fields,
        occurred_at=target.updated_at,
        next_attempt=result.next_attempt,
        next_attempt_at=result.next_attempt_at,
        reason=result.reason,
        error=result.error,
    )
