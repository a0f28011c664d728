"""What happens to a publish task once its bytes are in: status, the post, the webhooks.

`status_of` computes the task's state from the clock (platform-apis.md §4.2 f).
`transfer_done` is called when the last chunk arrives or the pull finishes: it decides success
or the `fail_reason`, records the publish in the ledger (dated when it completes), creates the
post for Display API reads, and queues the signed webhooks `post.publish.complete`,
`post.publish.inbox_delivered` or `post.publish.failed`, then
`post.publish.publicly_available` for public posts after moderation.
"""

from __future__ import annotations

import json
from typing import Any

from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tiktok.model import Publish, TikTokPost

_KINDS = {"VIDEO": frozenset({"mp4", "mov", "webm"}), "PHOTO": frozenset({"jpeg", "webp"})}


def done_at(sandbox: Sandbox, publish: Publish) -> float | None:
    if publish.transfer_done_at is None:
        return None
    return publish.transfer_done_at + sandbox.settings.tiktok.processing_s


def status_of(sandbox: Sandbox, publish: Publish) -> dict[str, Any]:
    now = sandbox.clock.now()
    finished = done_at(sandbox, publish)
    transferring = "PROCESSING_UPLOAD" if publish.source == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
    counter = "uploaded_bytes" if publish.source == "FILE_UPLOAD" else "downloaded_bytes"
    data: dict[str, Any] = {counter: publish.transferred_bytes, "publicaly_available_post_id": []}
    if publish.cancelled:
        return data | {"status": "FAILED", "fail_reason": "publish_cancelled"}
    if finished is None or now < finished:
        return data | {"status": transferring}
    if publish.fail_reason is not None:
        return data | {"status": "FAILED", "fail_reason": publish.fail_reason}
    if publish.mode == "MEDIA_UPLOAD":
        return data | {"status": "SEND_TO_USER_INBOX"}
    moderated = now >= finished + sandbox.settings.tiktok.moderation_s
    if publish.public and moderated and publish.post_id is not None:
        data["publicaly_available_post_id"] = [int(publish.post_id)]
    return data | {"status": "PUBLISH_COMPLETE"}


def check_kind(publish: Publish, kind: str | None) -> None:
    if kind not in _KINDS[publish.media]:
        publish.fail_reason = publish.fail_reason or "file_format_check_failed"


def transfer_done(sandbox: Sandbox, publish: Publish) -> None:
    publish.transfer_done_at = sandbox.clock.now()
    finished = done_at(sandbox, publish) or publish.transfer_done_at
    if publish.cancelled:
        return
    if publish.fail_reason is not None:
        _webhook(sandbox, publish, "post.publish.failed", finished, reason=publish.fail_reason)
        return
    if publish.mode == "MEDIA_UPLOAD":
        _record(sandbox, publish, "inbox_delivered", finished)
        _webhook(sandbox, publish, "post.publish.inbox_delivered", finished)
        return
    post = _create_post(sandbox, publish, finished)
    _record(
        sandbox,
        publish,
        "photo_published" if publish.media == "PHOTO" else "video_published",
        finished,
    )
    _webhook(sandbox, publish, "post.publish.complete", finished)
    if publish.public:
        visible = finished + sandbox.settings.tiktok.moderation_s
        _webhook(sandbox, publish, "post.publish.publicly_available", visible, post_id=post.id)


def _create_post(sandbox: Sandbox, publish: Publish, at: float) -> TikTokPost:
    info = publish.post_info
    post = TikTokPost(
        id=sandbox.state.ids.tiktok_video(),
        open_id=publish.open_id,
        title=str(info.get("title", "")),
        description=str(info.get("description", info.get("title", ""))),
        create_time=at,
        is_photo=publish.media == "PHOTO",
    )
    publish.post_id = post.id
    sandbox.state.tiktok.posts[post.id] = post
    return post


def _record(sandbox: Sandbox, publish: Publish, kind: str, at: float) -> None:
    text = publish.post_info.get("title") or publish.post_info.get("description")
    sandbox.ledger.record(
        platform="tiktok",
        kind=kind,
        account=publish.open_id,
        object_id=publish.publish_id,
        at=at,
        marker=sandbox.ledger.marker({}, [text if isinstance(text, str) else None]),
        text=text if isinstance(text, str) else None,
        request={
            "publish_id": publish.publish_id,
            "source": publish.source,
            "post_mode": publish.mode,
            "media_type": publish.media,
            "post_info": publish.post_info,
            "post_id": publish.post_id,
        },
    )


def _webhook(sandbox: Sandbox, publish: Publish, event: str, at: float, **content: str) -> None:
    publish_type = "INBOX_SHARE" if publish.mode == "MEDIA_UPLOAD" else "DIRECT_PUBLISH"
    body = {"publish_id": publish.publish_id, "publish_type": publish_type} | content
    payload = {
        "client_key": sandbox.settings.tiktok.client_key,
        "event": event,
        "create_time": int(at),
        "user_openid": publish.open_id,
        "content": json.dumps(body),
    }
    sandbox.webhooks.enqueue("tiktok", payload, due_at=at, summary=f"{event} {publish.publish_id}")
