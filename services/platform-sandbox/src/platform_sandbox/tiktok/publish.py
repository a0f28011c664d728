"""Content Posting API (platform-apis.md §4.2): `creator_info/query`, Direct Post `video/init`,
`inbox/video/init`, photo `content/init`, `status/fetch` and `cancel`.

Checks in the order TikTok documents them: the creator may post (`spam_risk_*`), the privacy
level is one the creator offers, an unaudited client posts only `SELF_ONLY` to private accounts,
the daily post cap (default 15 per creator per 24 h) and pending inbox shares (5 per 24 h),
FILE_UPLOAD chunk rules, and PULL_FROM_URL URLs under a verified prefix.
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.media.fetch import FetchError
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tiktok.calls import TikTokCall
from platform_sandbox.tiktok.chunks import plan_problem
from platform_sandbox.tiktok.envelope import TikTokError, invalid_param
from platform_sandbox.tiktok.lifecycle import check_kind, status_of, transfer_done
from platform_sandbox.tiktok.model import Publish, UploadSession

DAY = 86_400.0


async def creator_info(call: TikTokCall) -> dict[str, Any]:
    creator = call.creator
    if creator.banned:
        # TikTok answers these with HTTP 200 on purpose (platform-apis.md §4.2 a).
        raise TikTokError(
            200, "spam_risk_user_banned_from_posting", "The user is banned from posting."
        )
    _check_daily_cap(call, status=200)
    return {
        "creator_avatar_url": f"https://p16-sign.tiktokcdn.com/{creator.open_id}.jpeg",
        "creator_username": creator.username,
        "creator_nickname": creator.display_name,
        "privacy_level_options": creator.privacy_level_options,
        "comment_disabled": creator.comment_disabled,
        "duet_disabled": creator.duet_disabled,
        "stitch_disabled": creator.stitch_disabled,
        "max_video_post_duration_sec": creator.max_video_post_duration_sec,
    }


def _check_daily_cap(call: TikTokCall, status: int = 403) -> None:
    cap = call.sandbox.settings.tiktok.daily_post_cap
    if (
        call.sandbox.state.tiktok.posted.count(call.token.subject, now=call.now, window_s=DAY)
        >= cap
    ):
        raise TikTokError(status, "spam_risk_too_many_posts", "The daily post cap is reached.")


def _check_post_info(call: TikTokCall, info: Any, title_max: int) -> dict[str, Any]:
    if not isinstance(info, dict):
        raise invalid_param("post_info is required")
    creator, settings = call.creator, call.sandbox.settings.tiktok
    if creator.banned:
        raise TikTokError(
            403, "spam_risk_user_banned_from_posting", "The user is banned from posting."
        )
    title = info.get("title", "")
    if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > title_max:
        raise invalid_param(f"title must be a string of at most {title_max} UTF-16 runes")
    privacy = info.get("privacy_level")
    if privacy not in creator.privacy_level_options:
        raise TikTokError(
            403, "privacy_level_option_mismatch", "privacy_level is not one the creator offers"
        )
    if not settings.audited and (privacy != "SELF_ONLY" or not creator.private_account):
        raise TikTokError(
            403,
            "unaudited_client_can_only_post_to_private_accounts",
            "Unaudited clients can only post SELF_ONLY content to private accounts.",
        )
    _check_daily_cap(call)
    return info


def _verified(call: TikTokCall, url: Any) -> str:
    prefixes = (
        call.sandbox.state.tiktok_verified_prefixes
        + call.sandbox.settings.tiktok.verified_url_prefixes
    )
    if not isinstance(url, str) or not any(url.startswith(p) for p in prefixes):
        raise TikTokError(
            403, "url_ownership_unverified", "The URL's domain or prefix is not verified."
        )
    return url


def _new_publish(call: TikTokCall, prefix: str, **fields: Any) -> Publish:
    publish = Publish(
        publish_id=call.sandbox.state.ids.publish_id(prefix),
        open_id=call.token.subject,
        access_token=call.token.value,
        created_at=call.now,
        **fields,
    )
    call.sandbox.state.tiktok.publishes[publish.publish_id] = publish
    if publish.mode == "DIRECT_POST":
        call.sandbox.state.tiktok.posted.record(publish.open_id, now=call.now)
    return publish


def _video_source(
    call: TikTokCall, source: Any, mode: str, post_info: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(source, dict) or source.get("source") not in ("FILE_UPLOAD", "PULL_FROM_URL"):
        raise invalid_param("source_info.source must be FILE_UPLOAD or PULL_FROM_URL")
    if source["source"] == "PULL_FROM_URL":
        url = _verified(call, source.get("video_url"))
        publish = _new_publish(
            call,
            "v_pub_url",
            media="VIDEO",
            mode=mode,
            source="PULL_FROM_URL",
            post_info=post_info,
            urls=[url],
        )
        call.sandbox.tasks.spawn(pull(call.sandbox, publish))
        return {"publish_id": publish.publish_id}
    sizes = [source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
        raise invalid_param("video_size, chunk_size and total_chunk_count are required integers")
    video_size, chunk_size, total = (int(v or 0) for v in sizes)
    problem = plan_problem(video_size, chunk_size, total, call.sandbox.settings.tiktok)
    if problem is not None:
        raise invalid_param(problem)
    publish = _new_publish(
        call,
        "v_pub_file",
        media="VIDEO",
        mode=mode,
        source="FILE_UPLOAD",
        post_info=post_info,
        expected_bytes=video_size,
    )
    return {
        "publish_id": publish.publish_id,
        "upload_url": _upload_url(call, publish, chunk_size, total),
    }


def _upload_url(call: TikTokCall, publish: Publish, chunk_size: int, total: int) -> str:
    ids, settings = call.sandbox.state.ids, call.sandbox.settings.tiktok
    session = UploadSession(
        upload_id=ids.publish_id("up")[-19:],
        upload_token=ids.open_id()[4:],
        publish_id=publish.publish_id,
        video_size=publish.expected_bytes,
        chunk_size=chunk_size,
        total_chunks=total,
        expires_at=call.now + settings.upload_url_ttl_s,
    )
    call.sandbox.state.tiktok.uploads[session.upload_id] = session
    base = call.sandbox.base_url(call.request.headers)
    query = f"upload_id={session.upload_id}&upload_token={session.upload_token}"
    return f"{base}/open-upload.tiktokapis.com/video/?{query}"


async def video_init(call: TikTokCall) -> dict[str, Any]:
    limit = call.sandbox.settings.tiktok.video_title_max_chars
    info = _check_post_info(call, call.body.get("post_info"), limit)
    if "brand_content_toggle" not in info:
        raise invalid_param("post_info.brand_content_toggle is required")
    return _video_source(call, call.body.get("source_info"), "DIRECT_POST", info)


async def inbox_init(call: TikTokCall) -> dict[str, Any]:
    settings, state = call.sandbox.settings.tiktok, call.sandbox.state.tiktok
    if (
        state.inbox.count(call.token.subject, now=call.now, window_s=DAY)
        >= settings.pending_inbox_cap
    ):
        raise TikTokError(403, "spam_risk_too_many_pending_share", "Too many pending inbox shares.")
    data = _video_source(call, call.body.get("source_info"), "MEDIA_UPLOAD", {})
    state.inbox.record(call.token.subject, now=call.now)
    return data


async def content_init(call: TikTokCall) -> dict[str, Any]:
    body, settings = call.body, call.sandbox.settings.tiktok
    if body.get("media_type") != "PHOTO":
        raise invalid_param("media_type must be PHOTO")
    mode = body.get("post_mode")
    if mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        raise invalid_param("post_mode must be DIRECT_POST or MEDIA_UPLOAD")
    raw_info = body.get("post_info") or {}
    info = (
        _check_post_info(call, raw_info, settings.photo_title_max_chars)
        if mode == "DIRECT_POST"
        else raw_info
    )
    description = info.get("description", "")
    if not isinstance(description, str) or len(description) > settings.photo_description_max_chars:
        raise invalid_param(
            f"description must be at most {settings.photo_description_max_chars} runes"
        )
    source = body.get("source_info")
    if not isinstance(source, dict) or source.get("source") != "PULL_FROM_URL":
        raise invalid_param("photo posts take source_info.source PULL_FROM_URL")
    images = source.get("photo_images")
    if not isinstance(images, list) or not 1 <= len(images) <= settings.photo_max_images:
        raise invalid_param(f"photo_images must hold 1 to {settings.photo_max_images} URLs")
    cover = source.get("photo_cover_index", 0)
    if not isinstance(cover, int) or not 0 <= cover < len(images):
        raise invalid_param("photo_cover_index is out of range")
    urls = [_verified(call, url) for url in images]
    publish = _new_publish(
        call,
        "p_pub_url",
        media="PHOTO",
        mode=mode,
        source="PULL_FROM_URL",
        post_info=info,
        urls=urls,
    )
    call.sandbox.tasks.spawn(pull(call.sandbox, publish))
    return {"publish_id": publish.publish_id}


async def pull(sandbox: Sandbox, publish: Publish) -> None:
    """Download PULL_FROM_URL media (loopback only) as TikTok's ingress would."""
    done = 0
    for url in publish.urls:

        def progress(size: int, before: int = done) -> None:
            publish.transferred_bytes = before + size

        try:
            fetched = await sandbox.fetcher.fetch(
                url, max_bytes=sandbox.settings.tiktok.video_max_bytes, progress=progress
            )
        except FetchError:
            publish.fail_reason = (
                "photo_pull_failed" if publish.media == "PHOTO" else "video_pull_failed"
            )
            break
        done += fetched.size
        check_kind(publish, fetched.sniffed.kind)
    transfer_done(sandbox, publish)


def _owned(call: TikTokCall) -> Publish:
    publish_id = call.body.get("publish_id")
    publish = call.sandbox.state.tiktok.publishes.get(str(publish_id))
    if publish is None:
        raise TikTokError(400, "invalid_publish_id", "The publish_id does not exist.")
    if publish.open_id != call.token.subject:
        raise TikTokError(
            400,
            "token_not_authorized_for_specified_publish_id",
            "The publish_id belongs to another user.",
        )
    return publish


async def status_fetch(call: TikTokCall) -> dict[str, Any]:
    return status_of(call.sandbox, _owned(call))


async def cancel(call: TikTokCall) -> dict[str, Any]:
    publish = _owned(call)
    if status_of(call.sandbox, publish)["status"] in (
        "PUBLISH_COMPLETE",
        "SEND_TO_USER_INBOX",
        "FAILED",
    ):
        raise TikTokError(400, "publish_not_cancellable", "The publish can no longer be cancelled.")
    publish.cancelled = True
    return {}
