"""A preview per target: how each platform will read the post, with the text cut where the
platform's limit cuts it. The limits are `herald.rules.limits` (cited there to
shared/reference/platform-apis.md), the ones the API refuses a post by: Instagram captions 2,200
characters, TikTok captions 2,200 UTF-16 units (photo descriptions 4,000), WhatsApp messages 4,096
(media captions 1,024), Facebook posts 63,206. Instagram stories carry no caption. A feed's own
"… more" fold is not documented by any platform (platform-apis.md), so it is not drawn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from console.client import Integration
from console.compose import PRIVACY_WORDS, Draft
from herald.rules import DEFAULT_LIMITS
from herald.rules.common import count_utf16


@dataclass(frozen=True)
class Preview:
    """How one target will read: the text the platform shows, what its limit cuts off."""

    integration_id: str
    platform: str
    account: str
    form: str  # "Feed post", "Reel", "Video", "Message", "Template message"
    shown: str
    cut: str  # beyond the platform's limit (the API refuses the post until it is shortened)
    limit: str  # "2,200 characters", "" when the text is not sent at all
    media: list[tuple[int, str, str]]  # (position from 1, kind, url) in the platform's order
    note: str = ""


def cut_text(text: str, limit: int, counter: Callable[[str], int] = len) -> tuple[str, str]:
    """`text` split where `limit` (counted by `counter`) ends: (kept, cut). A character is never
    split: an emoji that would straddle TikTok's UTF-16 limit goes to the cut part whole."""
    if counter(text) <= limit:
        return text, ""
    if counter is len:
        return text[:limit], text[limit:]
    used = 0
    for index, char in enumerate(text):
        used += counter(char)
        if used > limit:
            return text[:index], text[index:]
    return text, ""


def previews(draft: Draft, accounts: Sequence[Integration]) -> list[Preview]:
    by_id = {a.integration_id: a for a in accounts}
    found = []
    for integration_id in draft.targets:
        account = by_id.get(integration_id)
        if account is not None:
            found.append(_preview(draft, account))
    return found


def _preview(draft: Draft, account: Integration) -> Preview:
    limits = DEFAULT_LIMITS
    rows = draft.media_used
    media = [(n, draft.media[i].kind, draft.media[i].url.strip()) for n, i in enumerate(rows, 1)]
    kinds = {kind for _, kind, _ in media}
    text, platform, note = draft.text, account.platform, ""
    counter: Callable[[str], int] = len
    if platform == "instagram":
        kind = draft.option(account.integration_id, "kind") or "feed"
        form = {"reel": "Reel", "story": "Story", "carousel": "Carousel"}.get(kind, "Feed post")
        limit = 0 if kind == "story" else limits.instagram.caption_max_chars
        if kind == "story":
            note = "Stories have no caption: the text is not sent."
    elif platform == "tiktok":
        photo = "video" not in kinds and bool(media)
        form = "Photo post" if photo else "Video"
        limit = (
            limits.tiktok.photo_description_max_utf16
            if photo
            else limits.tiktok.video_caption_max_utf16
        )
        counter = count_utf16
        privacy = draft.option(account.integration_id, "privacy_level")
        words = PRIVACY_WORDS.get(privacy)
        note = f"Who can watch: {words}." if words else "Who can watch: not chosen yet."
    elif platform == "whatsapp":
        template = draft.option(account.integration_id, "template")
        form = "Template message" if template else "Message"
        limit = limits.whatsapp.caption_max_chars if media else limits.whatsapp.text_max_chars
        if template:
            params = draft.option(account.integration_id, "params").splitlines()
            filled = ", ".join(
                f"{{{{{n}}}}} = {p.strip()}" for n, p in enumerate(params, 1) if p.strip()
            )
            language = draft.option(account.integration_id, "language")
            note = f"Template {template} ({language or 'no language'})" + (
                f" with {filled}." if filled else ", no parameters."
            )
            limit = 0
    else:
        form, limit = "Page post", limits.facebook.text_max_chars
    shown, cut = cut_text(text, limit, counter) if limit else ("", "")
    return Preview(
        integration_id=account.integration_id,
        platform=platform,
        account=account.account_name or account.account_id,
        form=form,
        shown=shown,
        cut=cut,
        limit=f"{limit:,} characters" if limit else "",
        media=media,
        note=note,
    )
