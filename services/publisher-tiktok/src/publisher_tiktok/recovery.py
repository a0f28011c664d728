"""After a pull init whose answer was lost: look for the post on the account (ADR 0005).

A PULL_FROM_URL init answers with the `publish_id` that every later status names; when the
answer is lost (the publisher stopped between asking and recording it, or the call's outcome was
unknown) there is no id to ask about, and TikTok may be publishing the post. The account's own
videos can still show it: `POST /v2/video/list/` (scope `video.list`, the Display API's limit)
lists the token owner's newest videos, each with its `create_time`, `title` and
`video_description` (both cut to 150 characters). A video created after the init was sent whose
title (a video's caption, a photo post's title) or description (a photo post's caption) is the
post's is taken as it: published, with its id and share URL. Until it shows, the flow looks
again every `status_poll_s`, `LOOKS` times in all (a pull takes a while to publish); then the
target fails as unknown, saying TikTok may still show it. An inbox post (a draft in the creator's
inbox, never on the account until they post it) and a post with neither text nor title cannot be
recognised, and fail as unknown at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from herald.errors import Unknown
from herald.runtime.ports import Outcome, Published, Wait

if TYPE_CHECKING:
    from publisher_tiktok.handlers import Flow

PULL_SENT = "pull_sent"
LOOKS = 6  # looks at the account's videos, `status_poll_s` apart, before giving up
SHOWN = 150  # characters of a title and a description the video list gives
EARLY_S = 60.0  # a video created this long before the init was sent is older than the post
LIST_FIELDS = "id,title,video_description,create_time,share_url"


async def find_pulled(flow: Flow) -> Outcome:
    data = dict(flow.checkpoint.data)
    sent_at = data.get("sent_at")
    title, description = expected(flow, str(data.get("pull") or "video"))
    if flow.inbox or not isinstance(sent_at, int | float) or not (title or description):
        raise _unknown(data, "and the post cannot be recognised on the account")
    flow.platform.limiter.take(flow.key, "display")
    videos = await flow.platform.api.video_list(flow.token, fields=LIST_FIELDS, max_count=20)
    ours = [v for v in videos if _is_ours(v, float(sent_at), title, description)]
    if ours:
        video = min(ours, key=lambda v: float(v.get("create_time") or 0))
        share_url = video.get("share_url")
        return Published(str(video["id"]), str(share_url) if share_url else None)
    looks = int(data.get("looks") or 0) + 1
    if looks >= LOOKS:
        raise _unknown(data, f"and no such post appeared on the account in {looks} looks")
    await flow.checkpoint.save(PULL_SENT, **{**data, "looks": looks})
    return Wait(
        flow.platform.settings.status_poll_s,
        PULL_SENT,
        "TikTok's answer to the pull was lost: looking for the post on the account",
    )


def expected(flow: Flow, kind: str) -> tuple[str, str]:
    """The title and description TikTok shows for this post, as far as the list shows them."""
    caption = (flow.request.content.text or "").strip()
    if kind == "photo":
        return (flow.options.title or "").strip()[:SHOWN], caption[:SHOWN]
    return caption[:SHOWN], ""


def _is_ours(video: dict[str, Any], sent_at: float, title: str, description: str) -> bool:
    created = video.get("create_time")
    if not isinstance(created, int | float) or created < sent_at - EARLY_S:
        return False
    shown_title = str(video.get("title") or "").strip()
    shown_description = str(video.get("video_description") or "").strip()
    return bool(title and shown_title == title) or bool(
        description and shown_description == description
    )


def _unknown(data: dict[str, Any], why: str) -> Unknown:
    return Unknown(
        "TikTok's answer to the request to pull the media was lost (the publisher stopped, or "
        f"the call's outcome was unknown), {why}: TikTok may still be publishing the post",
        code="interrupted_pull_init",
        remediation="Check the TikTok account; post again only if it is not there.",
        evidence={"source": data.get("pull"), "looks": data.get("looks", 0)},
    )
