"""TikTok's Content Posting and Display APIs over httpx, every failure classified once
(platform-apis.md §4.2 to §4.4, §5.5). The answer's `error.code` decides, not the HTTP status:
creator_info reports some refusals with HTTP 200."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable
from typing import Any

import httpx

from herald.errors import (
    ErrorCategory,
    NeedsReauth,
    Permanent,
    PlatformError,
    Throttled,
    Transient,
    Unknown,
)
from herald.metrics import PlatformCalls
from publisher_tiktok.domain import daily_cap
from publisher_tiktok.ports import Initialised, PublishStatus, RangeRejected, UploadGone
from publisher_tiktok.settings import TikTokSettings

POST = "/v2/post/publish"
VIDEO_FIELDS = "id,title,create_time,share_url,view_count,like_count,comment_count,share_count"
_REAUTH = frozenset({"access_token_invalid", "scope_not_authorized", "scope_permission_missed"})
_NEXT_DAY = frozenset({"spam_risk_too_many_posts", "reached_active_user_cap"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
UPLOAD = "upload_url"  # the endpoint label of chunk uploads (the URL itself holds an id)


class HttpTikTokApi:
    """With `calls`, each call is counted and timed by endpoint template (the path without its
    query) and outcome, as the Graph publishers' are (herald_platform_requests_total)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: TikTokSettings,
        calls: PlatformCalls | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._base = settings.base_url.rstrip("/")
        self._calls = calls

    async def creator_info(self, token: str) -> dict[str, Any]:
        return await self._call("POST", f"{POST}/creator_info/query/", token, {})

    async def init_video(
        self, token: str, *, inbox: bool, post_info: dict[str, Any], source_info: dict[str, Any]
    ) -> Initialised:
        path = f"{POST}/inbox/video/init/" if inbox else f"{POST}/video/init/"
        body = (
            {"source_info": source_info}
            if inbox
            else {"post_info": post_info, "source_info": source_info}
        )
        # A PULL_FROM_URL init lost after sending may have started a publish: never blind-retry.
        pulls = source_info.get("source") == "PULL_FROM_URL"
        data = await self._call("POST", path, token, body, ambiguous_is_unknown=pulls)
        return Initialised(str(data["publish_id"]), data.get("upload_url"))

    async def init_photo(
        self, token: str, *, inbox: bool, post_info: dict[str, Any], source_info: dict[str, Any]
    ) -> Initialised:
        body = {
            "media_type": "PHOTO",
            "post_mode": "MEDIA_UPLOAD" if inbox else "DIRECT_POST",
            "post_info": post_info,
            "source_info": source_info,
        }
        data = await self._call(
            "POST", f"{POST}/content/init/", token, body, ambiguous_is_unknown=True
        )
        return Initialised(str(data["publish_id"]))

    async def status(self, token: str, publish_id: str) -> PublishStatus:
        data = await self._call("POST", f"{POST}/status/fetch/", token, {"publish_id": publish_id})
        ids = data.get("publicaly_available_post_id") or []  # sic: TikTok's spelling
        uploaded = data.get("uploaded_bytes")
        return PublishStatus(
            status=str(data.get("status")),
            fail_reason=data.get("fail_reason"),
            post_ids=[str(i) for i in ids],
            uploaded_bytes=uploaded if isinstance(uploaded, int) else None,
        )

    async def video_query(self, token: str, video_ids: list[str]) -> list[dict[str, Any]]:
        path = f"/v2/video/query/?fields={VIDEO_FIELDS}"
        data = await self._call("POST", path, token, {"filters": {"video_ids": video_ids}})
        return list(data.get("videos") or [])

    async def video_list(self, token: str, *, fields: str, max_count: int) -> list[dict[str, Any]]:
        path = f"/v2/video/list/?fields={fields}"
        data = await self._call("POST", path, token, {"max_count": max_count})
        return list(data.get("videos") or [])

    async def user_info(self, token: str, fields: list[str]) -> dict[str, Any]:
        data = await self._call("GET", f"/v2/user/info/?fields={','.join(fields)}", token, {})
        user = data.get("user")
        return dict(user) if isinstance(user, dict) else {}

    async def put_chunk(
        self,
        upload_url: str,
        body: AsyncIterable[bytes],
        *,
        first: int,
        last: int,
        total: int,
        content_type: str,
    ) -> int:
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(last - first + 1),
            "Content-Range": f"bytes {first}-{last}/{total}",
        }
        began = time.perf_counter()
        try:
            try:
                response = await self._client.put(upload_url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                reason = f"a chunk upload failed: {type(exc).__name__}"
                raise Transient(reason, code="upload") from exc
            held = _chunk_outcome(response, last)
        except PlatformError as error:
            self._observe(UPLOAD, began, error.category.value)
            raise
        except (UploadGone, RangeRejected):  # the upload starts again or resumes: transient
            self._observe(UPLOAD, began, ErrorCategory.TRANSIENT.value)
            raise
        self._observe(UPLOAD, began, "ok")
        return held

    async def _call(
        self,
        method: str,
        path: str,
        token: str,
        body: dict[str, Any],
        *,
        ambiguous_is_unknown: bool = False,
    ) -> dict[str, Any]:
        began = time.perf_counter()
        endpoint = path.partition("?")[0]
        try:
            data = await self._request(method, path, token, body, ambiguous_is_unknown)
        except PlatformError as error:
            self._observe(endpoint, began, error.category.value)
            raise
        self._observe(endpoint, began, "ok")
        return data

    def _observe(self, endpoint: str, began: float, outcome: str) -> None:
        if self._calls is not None:
            self._calls.observe("tiktok", endpoint, outcome, began)

    async def _request(
        self, method: str, path: str, token: str, body: dict[str, Any], ambiguous_is_unknown: bool
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = await self._client.request(  # a GET (user/info) has no body
                method, self._base + path, json=body if method != "GET" else None, headers=headers
            )
        except _NOT_SENT as exc:
            raise Transient(f"TikTok unreachable: {type(exc).__name__}", code="network") from exc
        except httpx.HTTPError as exc:
            if ambiguous_is_unknown:
                raise Unknown(
                    "TikTok may have started the publish, but its answer was lost",
                    code="ambiguous_init",
                    remediation="Check the TikTok account; post again only if it is not there.",
                    evidence={"endpoint": path, "error": type(exc).__name__},
                ) from exc
            raise Transient(f"TikTok call failed: {type(exc).__name__}", code="network") from exc
        return self._data(response)

    def _data(self, response: httpx.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise _by_status(response.status_code, "not_json", "TikTok answered without JSON")
        error = payload.get("error") or {}
        code = str(error.get("code") or ("ok" if response.is_success else "unknown"))
        if code == "ok" and response.is_success:
            data = payload.get("data")
            return data if isinstance(data, dict) else {}
        raise self._classify(response, code, str(error.get("message") or ""), error)

    def _classify(
        self, response: httpx.Response, code: str, message: str, error: dict[str, Any]
    ) -> PlatformError:
        status = response.status_code
        evidence = {"log_id": error.get("log_id"), "http_status": status}
        text = f"TikTok: {message or code}"
        if code in _REAUTH:
            return NeedsReauth(text, code=code, http_status=status, evidence=evidence)
        if code == "rate_limit_exceeded" or status == 429:
            wait = _retry_after(response) or 60.0
            return Throttled(text, code=code, retry_after_s=wait, evidence=evidence)
        if code in _NEXT_DAY:
            return daily_cap(self._settings.daily_cap_retry_s, code=code)
        if code == "spam_risk_too_many_pending_share":
            return Throttled(
                "the creator has too many drafts waiting in the TikTok inbox (at most 5 a day)",
                code=code,
                retry_after_s=self._settings.pending_share_retry_s,
                remediation="Ask the creator to finish or delete pending TikTok drafts.",
            )
        if status >= 500 or code == "internal_error":
            return Transient(text, code=code, http_status=status, evidence=evidence)
        return Permanent(
            text,
            code=code,
            http_status=status,
            remediation=_REMEDIES.get(code, "Check the post's options against TikTok's rules."),
            evidence=evidence,
        )


_REMEDIES = {
    "url_ownership_unverified": "Host the media under a URL prefix verified for the TikTok app.",
    "privacy_level_option_mismatch": "Pick a privacy level the creator offers.",
    "unaudited_client_can_only_post_to_private_accounts": (
        "Until the TikTok app is audited, post SELF_ONLY to a private account."
    ),
    "spam_risk_user_banned_from_posting": "The creator must resolve the ban with TikTok.",
}


def _by_status(status: int, code: str, message: str) -> PlatformError:
    if status >= 500:
        return Transient(message, code=code, http_status=status)
    return Permanent(message, code=code, http_status=status)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _chunk_outcome(response: httpx.Response, last: int) -> int:
    status = response.status_code
    if status in (201, 206):
        held = response.headers.get("content-range", "").rpartition("-")[2].partition("/")[0]
        return int(held) + 1 if held.isdigit() else last + 1
    if status in (403, 404):
        raise UploadGone(f"the upload URL answered {status}")
    if status == 416:
        raise RangeRejected("TikTok expected another chunk")
    if status >= 500 or status == 429:
        raise Transient(f"a chunk upload answered HTTP {status}", code="upload", http_status=status)
    raise Permanent(
        f"TikTok refused a chunk (HTTP {status})",
        code="invalid_file_upload",
        http_status=status,
        remediation="Check the video file; it may be damaged or not a video.",
    )
