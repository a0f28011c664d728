"""From the scheduler's records to notices: emitted on `business.events` and queued for every
endpoint of the business that subscribed to their type (ADR 0021).

Each notice's id is derived from what caused it (the result's event id, the post id, the
integration's deadline), so handling the same input twice produces the same notice id: Kafka
consumers may see it twice (at-least-once), an endpoint gets one delivery (unique per endpoint
and id). A notice is told only when the target's stored state agrees with it, so a result that
arrives late (an old retry after the publication) tells nothing.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog

from herald.emitter import EventEmitter, Outgoing
from herald.events import (
    Event,
    IntegrationDisconnected,
    IntegrationEvent,
    IntegrationExpired,
)
from herald.notices import (
    AcceptedTarget,
    BroadcastCompleted,
    BroadcastProgressed,
    FinishedTarget,
    IntegrationNeedsReconnect,
    PostAccepted,
    PostFinished,
    TargetFailed,
    webhook_type,
)
from herald.topics import TopicNames
from scheduler.handlers.base import status_of
from scheduler.models import Post, Role, Target, TargetState
from scheduler.ports import PostStore
from scheduler.webhooks.models import Delivery, DeliveryState, Endpoint
from scheduler.webhooks.notice_of import Result, correlation, target_fields, target_notice
from scheduler.webhooks.store import WebhookStore

log = structlog.get_logger(__name__)

NAMESPACE = uuid.UUID("6f1d7c1e-2b55-4f7e-9a63-0c7d4b8e5a10")  # of Herald's notice ids
FINISHED = {"published", "partially_published", "failed", "cancelled"}
ENDED = {TargetState.PUBLISHED, TargetState.FAILED, TargetState.CANCELLED}
Told = tuple[Event, str]  # a notice and its id
TOLD_POSTS = 20_000  # posts whose identity `Notifier._post_of` holds at most


def notice_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def webhook_body(event: Event, occurred_at: datetime) -> str:
    """The Standard Webhooks payload: `type`, `timestamp` and the notice as `data`."""
    payload = {
        "type": webhook_type(event),
        "timestamp": occurred_at.isoformat(),
        "data": event.model_dump(mode="json"),
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class Notifier:
    def __init__(
        self,
        *,
        posts: PostStore,
        store: WebhookStore,
        emitter: EventEmitter,
        names: TopicNames,
        clock: Callable[[], datetime],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._posts = posts
        self._store = store
        self._emitter = emitter
        self._names = names
        self._clock = clock
        self.wake = wake  # tells this replica's sender at once that a delivery is due
        self._told: OrderedDict[str, Post] = OrderedDict()  # `_post_of`, the latest first out

    async def accepted(self, post: Post, targets: Sequence[Target]) -> None:
        notice = PostAccepted(
            **correlation(post),
            occurred_at=post.created_at,
            status="draft" if post.draft else "scheduled",
            due_at=post.due_at,
            source=post.source,
            targets=[
                AcceptedTarget(
                    target_id=t.id,
                    target_index=t.index,
                    integration_id=t.integration_id,
                    platform=t.platform,
                )
                for t in sorted(targets, key=lambda t: t.order)
            ],
        )
        self._remember(post)
        await self.publish(notice, notice_id(post.id, "accepted"))

    async def _post_of(self, target: Target) -> Post | None:
        """The target's post as far as notices use it: its identity, correlation and targets'
        ids, which never change once stored, so a post told of once is not read again."""
        post = self._told.get(target.post_id)
        if post is not None:
            self._told.move_to_end(target.post_id)
            return post
        post = await self._posts.get_post(target.business_id, target.post_id)
        if post is not None:
            self._remember(post)
        return post

    def _remember(self, post: Post) -> None:
        slim = replace(
            post,
            content={},
            targets=tuple(replace(t, options=_role_only(t.options)) for t in post.targets),
        )
        self._told[post.id] = slim
        if len(self._told) > TOLD_POSTS:
            self._told.popitem(last=False)

    async def result(self, result: Result, *, event_id: str, target: Target) -> None:
        """`target` as recording `result` left it."""
        post = await self._post_of(target)
        if post is None:
            return
        notice = target_notice(post, target, result)
        if notice is None:
            return  # the target's state says otherwise: an older result, nothing to tell
        told: list[Told] = [(notice, notice_id(event_id, notice.event_type))]
        if target.state in ENDED:
            told += await self._after_end(post, target)
        await self.tell(told)

    async def _after_end(self, post: Post, target: Target) -> list[Told]:
        if not post.has_broadcast and post.target_ids == (target.id,):
            targets = [target]  # its only target: nothing more to read
        else:
            targets = await self._posts.targets_of([post])
        told = []
        if target.role is Role.BATCH and target.batch is not None:
            told += self._broadcast(post, target.batch.parent_target_id, targets)
        return told + self._finished(post, targets)

    async def cancelled(self, post: Post) -> None:
        """A person cancelled targets of the post: it may have ended."""
        await self.tell(self._finished(post, await self._posts.targets_of([post])))

    async def failed_here(self, target_id: str) -> None:
        """The scheduler failed a target itself (its integration unusable at dispatch)."""
        target = await self._posts.get_target(target_id)
        if target is None or target.last_error is None:
            return
        post = await self._posts.get_post(target.business_id, target.post_id)
        if post is None:
            return
        fields = {**correlation(post), **target_fields(target)}
        notice = TargetFailed(
            **fields,
            occurred_at=target.updated_at,
            attempt=target.attempts,
            error=target.last_error,
        )
        told = [(notice, notice_id(target.id, target.epoch, notice.event_type))]
        await self.tell(told + await self._after_end(post, target))

    def _finished(self, post: Post, targets: list[Target]) -> list[Told]:
        status = status_of(targets)
        if status not in FINISHED:
            return []
        counted = sorted((t for t in targets if t.role is not Role.BATCH), key=lambda t: t.order)
        notice = PostFinished(
            **correlation(post),
            occurred_at=max(t.updated_at for t in targets),
            status=status,  # type: ignore[arg-type]  # one of FINISHED, checked above
            targets=[
                FinishedTarget(
                    target_id=t.id,
                    target_index=t.index,
                    integration_id=t.integration_id,
                    platform=t.platform,
                    state=t.state.value,
                )
                for t in counted
            ],
        )
        # Once per outcome of the post: a retry a person asks for may finish it again.
        outcome = ",".join(f"{t.id}={t.state.value}@{t.epoch}" for t in targets)
        return [(notice, notice_id(post.id, "finished", outcome))]

    def _broadcast(self, post: Post, parent_id: str, targets: list[Target]) -> list[Told]:
        parent = next((t for t in targets if t.id == parent_id), None)
        batches = [
            t for t in targets if t.batch is not None and t.batch.parent_target_id == parent_id
        ]
        if parent is None or not batches:
            return []
        published = sum(1 for t in batches if t.state is TargetState.PUBLISHED)
        failed = sum(1 for t in batches if t.state in (TargetState.FAILED, TargetState.CANCELLED))
        done = published + failed == len(batches)
        cls = BroadcastCompleted if done else BroadcastProgressed
        notice = cls(
            **correlation(post),
            **target_fields(parent),
            occurred_at=self._clock(),
            batches=len(batches),
            batches_published=published,
            batches_failed=failed,
        )
        return [(notice, notice_id(parent_id, cls.event_type, published, failed))]

    async def integration(self, event: IntegrationEvent, *, event_id: str) -> None:
        await self._store.watch(
            {
                "_id": event.integration_id,
                "business_id": event.business_id,
                "platform": event.platform.value,
                "account_id": event.account_id,
                "status": event.status.value,
                "reconnect_by": event.reconnect_by if event.status.value == "active" else None,
                "occurred_at": event.occurred_at,
            }
        )
        if isinstance(event, IntegrationDisconnected):
            await self.publish(event, event_id)
        elif isinstance(event, IntegrationExpired):
            notice = IntegrationNeedsReconnect(
                business_id=event.business_id,
                occurred_at=event.occurred_at,
                integration_id=event.integration_id,
                platform=event.platform,
                account_id=event.account_id,
                reason=event.reason,
            )
            await self.publish(notice, notice_id(event_id, notice.event_type))

    async def tell(self, told: Sequence[Told]) -> int:
        """`publish` several notices: emitted on `business.events` in this order and
        acknowledged together (one round trip to Kafka where each alone would take one), then
        queued for the endpoints; returns how many deliveries were queued."""
        if not told:
            return 0
        await self._emitter.emit_all(
            [
                Outgoing(
                    event,
                    topic=self._names.business_events,
                    key=_business(event),
                    headers={"ce_id": event_id},
                )
                for event, event_id in told
            ]
        )
        queued = 0
        for event, event_id in told:
            queued += await self._queue(event, event_id, only=None)
        return queued

    async def publish(self, event: Event, event_id: str, *, only: Endpoint | None = None) -> int:
        """Emit `event` on `business.events` (unless it goes to `only` one endpoint: a ping) and
        queue it for each endpoint that wants it; returns how many deliveries were queued."""
        if only is None:
            await self._emitter.emit(
                event,
                topic=self._names.business_events,
                key=_business(event),
                headers={"ce_id": event_id},
            )
        return await self._queue(event, event_id, only=only)

    async def _queue(self, event: Event, event_id: str, *, only: Endpoint | None) -> int:
        business = _business(event)
        occurred = getattr(event, "occurred_at", None) or self._clock()
        kind = webhook_type(event)
        endpoints = [only] if only is not None else await self._store.endpoints_to_tell(business)
        body = webhook_body(event, occurred)
        now = self._clock()
        queued = 0
        for endpoint in endpoints:
            if only is None and not endpoint.wants(kind):
                continue
            delivery = Delivery(
                id=f"{endpoint.id}.{event_id}",
                message_id=event_id,
                endpoint_id=endpoint.id,
                business_id=business,
                webhook_type=kind,
                payload=body,
                state=DeliveryState.PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            queued += await self._store.add_delivery(delivery)
        if queued:
            self.wake()
        log.info("notice.told", type=kind, notice_id=event_id, deliveries=queued)
        return queued


def _business(event: Event) -> str:
    return str(getattr(event, "business_id"))  # noqa: B009 - every notice has one


def _role_only(options: dict[str, Any]) -> dict[str, Any]:
    """What of a target's options `TargetSpec.role` reads: its audience, if any."""
    audience = options.get("audience_id")
    return {"audience_id": audience} if audience else {}
