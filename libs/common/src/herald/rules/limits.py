"""Every platform limit the content rules check, as data with the documented default.

Sources: `../shared/reference/platform-apis.md` (cited as §N) and, where it is silent, the public
page named next to the value; "(secondary)" marks a value only third parties restate. Sizes use
binary megabytes, as Meta's own errors do ("image too large (>8 MiB)", §2.4) and as
platform-sandbox does, so a limit here never disagrees with the sandbox that enforces it.

A caller with better knowledge passes its own values, e.g. a TikTok publisher with the
creator's `max_video_post_duration_sec`:
`replace(DEFAULT_LIMITS, tiktok=replace(TIKTOK, video=replace(TIKTOK.video, max_duration_s=180)))`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
MP4 = "video/mp4"
MOV = "video/quicktime"


@dataclass(frozen=True, slots=True)
class MediaSpec:
    """What one platform accepts for one kind of media in one kind of post. `label` names it
    in messages ("Instagram reels"); a bound left as None is not checked."""

    label: str
    mime_types: tuple[str, ...]
    max_bytes: int | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class FacebookLimits:
    # No Meta page states a cap on Page post text; 63,206 is the figure every third party
    # restates (socialk.it, ferryman.io, letmepost.dev) (secondary).
    text_max_chars: int = 63_206
    # attached_media has no documented item cap (vendors say 10, 30 or unlimited), so none by
    # default; set one if the sandbox or the API proves otherwise.
    photos_max: int | None = None
    photo: MediaSpec = MediaSpec(
        label="Facebook photos",
        # developers.facebook.com/docs/graph-api/photo-uploads lists JPEG, BMP, PNG, GIF, TIFF;
        # WebP is accepted in practice (getlate.dev, letmepost.dev) (secondary).
        mime_types=(JPEG, PNG, "image/gif", "image/bmp", "image/tiff", WEBP),
        # Meta only *recommends* under 4 MB; 10 MB is the hard cap vendors report (ayrshare,
        # getlate) and platform-sandbox's photo_max_bytes.
        max_bytes=10 * MIB,
    )
    video: MediaSpec = MediaSpec(
        label="Facebook videos",
        # §1.2 names MP4 for resumable uploads; Page videos also take MOV and AVI (ayrshare,
        # getlate) (secondary).
        mime_types=(MP4, MOV, "video/x-msvideo", "video/avi"),
        # 10 GB and 4 hours (ayrshare "facebook-pages" media guidelines) (secondary); the same
        # 10 GiB as platform-sandbox's video_max_bytes.
        max_bytes=10 * GIB,
        max_duration_s=4 * 3600,
    )


@dataclass(frozen=True, slots=True)
class InstagramLimits:
    # §2.2 `caption` row and §2.4 error 36004/2207010: 2,200 chars, 30 hashtags, 20 @-tags.
    caption_max_chars: int = 2_200
    caption_max_hashtags: int = 30
    caption_max_mentions: int = 20
    # §2.2 Carousels: 2-10 children; wrong count is error 100/2207028.
    carousel_min_items: int = 2
    carousel_max_items: int = 10
    # §2.2 `collaborators` row: at most 3 usernames, not on stories.
    collaborators_max: int = 3
    # §2.2 Step 3: since Jul 1, 2023 single feed videos are published as reels, so a feed post
    # takes one image and a video must be sent as a reel.
    feed_allows_video: bool = False
    # §2.2 Media specifications: feed images JPEG only, at most 8 MB (error 36000/2207004).
    image: MediaSpec = MediaSpec(label="Instagram images", mime_types=(JPEG,), max_bytes=8 * MIB)
    # §2.2 Media specifications: reels MOV/MP4, 3 s-15 min, at most 300 MB.
    reel_video: MediaSpec = MediaSpec(
        label="Instagram reels",
        mime_types=(MP4, MOV),
        max_bytes=300 * MIB,
        min_duration_s=3,
        max_duration_s=15 * 60,
    )
    # The docs give no separate spec for carousel videos; the reel spec is the loosest the docs
    # state, so nothing Instagram accepts is refused here.
    carousel_video: MediaSpec = MediaSpec(
        label="Instagram carousel videos",
        mime_types=(MP4, MOV),
        max_bytes=300 * MIB,
        min_duration_s=3,
        max_duration_s=15 * 60,
    )
    # §2.2 Media specifications: story image JPEG at most 8 MB; story video as reels but
    # 3-60 s and at most 100 MB.
    story_image: MediaSpec = MediaSpec(
        label="Instagram story images", mime_types=(JPEG,), max_bytes=8 * MIB
    )
    story_video: MediaSpec = MediaSpec(
        label="Instagram story videos",
        mime_types=(MP4, MOV),
        max_bytes=100 * MIB,
        min_duration_s=3,
        max_duration_s=60,
    )


@dataclass(frozen=True, slots=True)
class TikTokLimits:
    # §4.2 (b): the video post title (its caption) is at most 2,200 UTF-16 code units.
    video_caption_max_utf16: int = 2_200
    # §4.2 (e): photo title at most 90, description at most 4,000 (secondary for the numbers).
    photo_title_max_utf16: int = 90
    photo_description_max_utf16: int = 4_000
    # §4.2 (e): up to 35 images in a photo post.
    photos_max: int = 35
    # §4.2 (e) photo posts are PULL_FROM_URL only, and pulls are HTTPS only (§4.2 PULL_FROM_URL).
    photo_url_schemes: tuple[str, ...] = ("https",)
    # TikTok's Direct Post UX guidelines: branded content cannot be private (only-me); restated
    # by zernio/late API docs (secondary).
    branded_content_allows_private: bool = False
    # §4.2 Video restrictions: MP4/WebM/MOV, at most 4 GB, API max 10 min (the creator's own
    # max comes from creator_info and may be lower); 3 s minimum per ayrshare (secondary).
    video: MediaSpec = MediaSpec(
        label="TikTok videos",
        mime_types=(MP4, "video/webm", MOV),
        max_bytes=4 * GIB,
        min_duration_s=3,
        max_duration_s=10 * 60,
    )
    # §4.2 (e): WebP or JPEG, at most 20 MB each.
    photo: MediaSpec = MediaSpec(label="TikTok photos", mime_types=(JPEG, WEBP), max_bytes=20 * MIB)


@dataclass(frozen=True, slots=True)
class WhatsAppLimits:
    # §3.2: text.body at most 4,096 characters.
    text_max_chars: int = 4_096
    # developers.facebook.com/documentation/business-messaging/whatsapp/messages/image-messages
    # (and document-messages): a media caption is at most 1,024 characters.
    caption_max_chars: int = 1_024
    # §3.2: a message carries one media object.
    media_max_items: int = 1
    # Meta marks `filename` optional, but without it the recipient sees a nameless file.
    document_requires_filename: bool = True
    # §3.3 (secondary, vendor restatements of Meta's table; same as platform-sandbox).
    image: MediaSpec = MediaSpec(label="WhatsApp images", mime_types=(JPEG, PNG), max_bytes=5 * MIB)
    video: MediaSpec = MediaSpec(
        label="WhatsApp videos", mime_types=(MP4, "video/3gpp"), max_bytes=16 * MIB
    )
    document: MediaSpec = MediaSpec(
        label="WhatsApp documents",
        mime_types=(
            "application/pdf",
            "text/plain",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        max_bytes=100 * MIB,
    )
    # Template names are lowercase letters, digits and underscores (WhatsApp Manager's rule,
    # restated by zavu.dev and others) (secondary); the model already caps the length at 512.
    template_name_pattern: str = r"^[a-z0-9_]+$"
    # Meta's supported-languages list: `en`, `fil`, `en_US`, `prs_AF`; underscore, never a
    # hyphen (docs.ycloud.com mirror of the list, May 2026).
    template_language_pattern: str = r"^[a-z]{2,3}(_[A-Z]{2})?$"
    # Template components reference: a header text parameter is at most 60 characters; a body
    # text parameter at most 1,024, or 32,768 when the body is the only component sent
    # (developers.facebook.com .../templates/components; whatsapp-api-js BodyParameter).
    header_text_param_max_chars: int = 60
    body_text_param_max_chars: int = 1_024
    body_only_text_param_max_chars: int = 32_768
    # The components reference: a header takes one parameter, a button one.
    header_params_max: int = 1
    button_params_max: int = 1


@dataclass(frozen=True, slots=True)
class Limits:
    facebook: FacebookLimits = field(default_factory=FacebookLimits)
    instagram: InstagramLimits = field(default_factory=InstagramLimits)
    tiktok: TikTokLimits = field(default_factory=TikTokLimits)
    whatsapp: WhatsAppLimits = field(default_factory=WhatsAppLimits)


FACEBOOK = FacebookLimits()
INSTAGRAM = InstagramLimits()
TIKTOK = TikTokLimits()
WHATSAPP = WhatsAppLimits()
DEFAULT_LIMITS = Limits(FACEBOOK, INSTAGRAM, TIKTOK, WHATSAPP)
