"""Publishing one target on an Instagram professional account: the runtime's `Platform`.

The flow (platform-apis.md §2.2), each step resumable from its checkpoint:
1. a carousel's items: one container each, ids saved (`CHILDREN_CREATED`) as they are made;
   video items are waited for (`Wait`) until every item is `FINISHED`;
2. the main container (the carousel parent, or the single image, reel or story), its id saved
   (`CONTAINER_CREATED`);
3. its `status_code` followed through the delay tiers until `FINISHED` (no sleeping);
4. `content_publishing_limit` read: an exhausted quota defers the post until a slot frees;
5. `PUBLISH_CALL_STARTED`, the `publishing` stage reported, then `media_publish`; the media id is
   saved (`MEDIA_PUBLISHED`) and its permalink read.

A redelivery resumes from the container: `PUBLISHED` is done (our media is found, nothing is
published twice), `EXPIRED` or `ERROR` makes a new container. After an ambiguous `media_publish`
the container's status is read before anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from herald.content import InstagramKind, InstagramOptions
from herald.errors import AmbiguousOutcome, Permanent, Throttled, Transient
from herald.events import PostRequested, ProcessingStage, Violation
from herald.graph.errors import RETRY
from herald.rules import check_target
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published, Wait
from herald.topics import Platform
from publisher_instagram import domain, quota
from publisher_instagram.domain import (
    CHILDREN_CREATED,
    CONTAINER_CREATED,
    MEDIA_PUBLISHED,
    PUBLISH_CALL_STARTED,
    Status,
)
from publisher_instagram.media import MediaFinder
from publisher_instagram.ports import InstagramApi


@dataclass(frozen=True)
class FlowSettings:
    container_poll_s: float = 20.0
    quota_probes: int = 8
    reconcile_skew_s: float = 120.0
    reconcile_media: int = 25


@dataclass(frozen=True)
class Target:
    token: str
    ig_user_id: str
    request: PostRequested

    @property
    def options(self) -> InstagramOptions:
        options = self.request.options
        assert isinstance(options, InstagramOptions)  # PostRequested checks it matches the platform
        return options

    @property
    def product(self) -> str:
        return domain.product_type(self.options, self.request.content)


@dataclass
class InstagramPublisher:
    api: InstagramApi
    settings: FlowSettings = field(default_factory=FlowSettings)
    # The API to use per auth-service `account.login` ("facebook", "instagram"); else `api`.
    by_login: Mapping[str, InstagramApi] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    name: Platform = Platform.INSTAGRAM

    def validate(self, request: PostRequested) -> list[Violation]:
        return check_target(request.content, Platform.INSTAGRAM, request.options)

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        login_api = self.by_login.get(credentials.account.get("login", ""))
        if login_api is not None and login_api is not self.api:
            flow = replace(self, api=login_api, by_login={})
            return await flow.publish(request, credentials, checkpoint)
        ig_user_id = credentials.account.get("ig_user_id") or credentials.account_id
        target = Target(credentials.access_token, ig_user_id, request)
        if checkpoint.step == MEDIA_PUBLISHED:
            return await self._finish(target, str(checkpoint.data["media_id"]))
        container_id = checkpoint.data.get("container_id")
        if container_id is not None:
            outcome = await self._resume(target, checkpoint, str(container_id))
            if outcome is not None:
                return outcome
        return await self._create(target, checkpoint)

    async def _resume(
        self, target: Target, checkpoint: Checkpoint, container_id: str
    ) -> Outcome | None:
        """Carry on from a container; None when it is gone and a new one must be made."""
        state = await self.api.container(target.token, container_id)
        status = Status.EXPIRED if state is None else Status(state.status_code)
        if status is Status.PUBLISHED:
            return await self._found(target, checkpoint)
        if not domain.needs_new_container(status):
            return await self._ready(target, checkpoint, status)
        _raise_if_unusable(state.status if state else None, container_id)
        await checkpoint.save("container_lost", container_id=None, children=[])
        return None

    async def _create(self, target: Target, checkpoint: Checkpoint) -> Outcome:
        params = domain.main_params(target.request.content, target.options)
        if target.options.kind is InstagramKind.CAROUSEL:
            children = await self._children(target, checkpoint)
            if isinstance(children, Wait):
                return children
            params["children"] = children
        container_id = await self.api.create_container(target.token, target.ig_user_id, params)
        started = self.clock().timestamp()
        await checkpoint.save(CONTAINER_CREATED, container_id=container_id, started_at=started)
        outcome = await self._resume(target, checkpoint, container_id)
        if outcome is None:
            raise _failed_container(container_id)
        return outcome

    async def _children(self, target: Target, checkpoint: Checkpoint) -> list[str] | Wait:
        made: list[str] = list(checkpoint.data.get("children") or [])
        for media in target.request.content.media[len(made) :]:
            child = await self.api.create_container(
                target.token, target.ig_user_id, domain.child_params(media)
            )
            made.append(child)
            await checkpoint.save(CHILDREN_CREATED, children=made)
        for child in made:
            state = await self.api.container(target.token, child)
            status = Status(state.status_code) if state else Status.EXPIRED
            if status is Status.IN_PROGRESS:
                return Wait(self.settings.container_poll_s, CHILDREN_CREATED, f"item {child}")
            if status is not Status.FINISHED:
                _raise_if_unusable(state.status if state else None, child)
                await checkpoint.save(CHILDREN_CREATED, children=[])
                raise _failed_container(child)
        return made

    async def _ready(self, target: Target, checkpoint: Checkpoint, status: Status) -> Outcome:
        container_id = str(checkpoint.data["container_id"])
        if status is Status.IN_PROGRESS:
            detail = f"container {container_id} processing"
            return Wait(self.settings.container_poll_s, CONTAINER_CREATED, detail)
        await self._check_quota(target)
        await checkpoint.save(PUBLISH_CALL_STARTED)
        # The container is FINISHED: what the target reads while media_publish runs (ADR 0018).
        detail = f"container {container_id} {status.value}; media_publish"
        await checkpoint.report(ProcessingStage.PUBLISHING, detail=detail)
        try:
            media_id = await self.api.publish(target.token, target.ig_user_id, container_id)
        except AmbiguousOutcome:
            state = await self.api.container(target.token, container_id)
            if state is not None and state.status_code == Status.PUBLISHED:
                return await self._found(target, checkpoint)
            raise
        except Throttled as error:
            if error.subcode == "2207042":
                await self._check_quota(target)
            raise
        await checkpoint.save(MEDIA_PUBLISHED, media_id=media_id)
        return await self._finish(target, media_id)

    async def _check_quota(self, target: Target) -> None:
        current = await self.api.quota(target.token, target.ig_user_id)
        if current.usage < current.total:
            return
        now = int(self.clock().timestamp())

        async def usage_since(since: int) -> int:
            return (await self.api.quota(target.token, target.ig_user_id, since=since)).usage

        wait = await quota.seconds_until_free(current, now, usage_since, self.settings.quota_probes)
        raise quota.exhausted(current, float(wait))

    async def _found(self, target: Target, checkpoint: Checkpoint) -> Outcome:
        """The container is PUBLISHED: find the media it became; never publish again."""
        finder = MediaFinder(
            self.api, self.settings.reconcile_skew_s, self.settings.reconcile_media
        )
        started = float(checkpoint.data.get("started_at") or self.clock().timestamp())
        media = await finder.find(target.token, target.ig_user_id, _expected(target, started))
        if media is None:
            # Published for certain (the container says so), but the media is not listed yet.
            return Published(None, None)
        await checkpoint.save(MEDIA_PUBLISHED, media_id=media.id)
        return Published(media.id, media.permalink)

    async def _finish(self, target: Target, media_id: str) -> Outcome:
        media = await self.api.media(target.token, media_id)
        return Published(media_id, media.permalink)


def _expected(target: Target, started: float) -> dict[str, Any]:
    return {
        "caption": target.request.content.text,
        "product": target.product,
        "since": datetime.fromtimestamp(started, UTC),
    }


def _failed_container(container_id: str) -> Transient:
    return Transient(
        f"Instagram's container {container_id} failed; the retry makes a new one",
        code="container_failed",
        remediation=RETRY,
        evidence={"container_id": container_id},
    )


def _raise_if_unusable(status_text: str | None, container_id: str) -> None:
    subcode = domain.error_subcode(status_text)
    if subcode in domain.MEDIA_ERRORS:
        raise Permanent(
            f"Instagram could not use the media: {status_text}",
            code="container_error",
            subcode=subcode,
            remediation="Replace the media so it meets Instagram's specifications, then retry.",
            evidence={"container_id": container_id},
        )
