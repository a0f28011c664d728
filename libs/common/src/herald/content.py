"""What a post says and how each platform should carry it: the content half of the contract.

The same models serve the REST API, `post.submitted` from other systems and the
`post.requested` events the publishers consume; `herald.rules` checks them against each
platform's limits. Unknown fields are ignored on Kafka (a tolerant reader), so producers may add
fields without breaking older consumers; removing or changing one is a new event version. The REST
API validates the same models with unknown fields forbidden (`herald.inputs.ApiBody`). Flags are
JSON booleans and counts JSON integers within what JSON and BSON carry exactly, never text such as
`"yes"`; numbers are finite.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from herald.inputs import MAX_INT
from herald.topics import Platform


class Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, allow_inf_nan=False
    )


Count = Annotated[StrictInt, Field(ge=0, le=MAX_INT)]


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"


class Media(Model):
    kind: MediaKind
    url: AnyHttpUrl = Field(description="Where the file can be fetched (http or https).")
    mime_type: str | None = Field(default=None, examples=["image/jpeg", "video/mp4"])
    size_bytes: Count | None = Field(default=None, description="Size if known.")
    alt_text: str | None = Field(default=None, max_length=1000)
    duration_s: float | None = Field(default=None, ge=0, description="Videos: length if known.")
    filename: str | None = Field(default=None, description="Documents: the name shown.")


class PostContent(Model):
    text: str | None = Field(default=None, description="Caption, message body or post text.")
    link: AnyHttpUrl | None = Field(default=None, description="A link to share (Facebook).")
    media: list[Media] = Field(default_factory=list)


class FacebookOptions(Model):
    platform: Literal["facebook"] = "facebook"
    video_title: str | None = Field(default=None, max_length=255)


class InstagramKind(StrEnum):
    FEED = "feed"
    REEL = "reel"
    STORY = "story"
    CAROUSEL = "carousel"


class InstagramOptions(Model):
    platform: Literal["instagram"] = "instagram"
    kind: InstagramKind = InstagramKind.FEED
    share_to_feed: StrictBool = Field(
        default=True, description="Reels: also show in the main feed."
    )
    cover_url: AnyHttpUrl | None = Field(default=None, description="Reels: cover image.")
    thumb_offset_ms: Count | None = Field(default=None, description="Reels: cover frame.")
    location_id: str | None = None
    collaborators: list[str] = Field(default_factory=list, max_length=3)


class TikTokPrivacy(StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


class TikTokOptions(Model):
    platform: Literal["tiktok"] = "tiktok"
    privacy_level: TikTokPrivacy = Field(
        description="Must be one of the creator's options at publish time (creator_info)."
    )
    disable_duet: StrictBool = False
    disable_stitch: StrictBool = False
    disable_comment: StrictBool = False
    video_cover_timestamp_ms: Count | None = None
    title: str | None = Field(default=None, description="Photo posts: the title.")
    photo_cover_index: Count = 0
    auto_add_music: StrictBool = False
    brand_content_toggle: StrictBool = False
    brand_organic_toggle: StrictBool = False
    is_aigc: StrictBool = False
    mode: Literal["direct", "inbox"] = Field(
        default="direct", description="inbox: upload to the creator's drafts instead of posting."
    )


class TemplateParameter(Model):
    type: Literal["text", "currency", "date_time", "image", "video", "document", "payload"]
    text: str | None = None
    payload: str | None = None
    link: AnyHttpUrl | None = Field(default=None, description="Media parameters: the file URL.")
    media_id: str | None = Field(default=None, description="Media parameters: an uploaded id.")
    parameter_name: str | None = Field(default=None, description="Named-parameter templates.")


class TemplateComponent(Model):
    type: Literal["header", "body", "button"]
    sub_type: Literal["quick_reply", "url", "copy_code"] | None = None
    index: StrictInt | None = Field(default=None, ge=0, le=9)
    parameters: list[TemplateParameter] = Field(default_factory=list)


class WhatsAppTemplate(Model):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15, examples=["en_US", "pt_BR"])
    components: list[TemplateComponent] = Field(default_factory=list)


E164 = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$", examples=["+15551234567"])]


class WhatsAppRecipient(Model):
    recipient_id: str = Field(
        min_length=1, max_length=128, description="Stable id of this recipient in this post."
    )
    to: E164
    components: list[TemplateComponent] | None = Field(
        default=None, description="This recipient's own template parameters, if any."
    )


class WhatsAppOptions(Model):
    platform: Literal["whatsapp"] = "whatsapp"
    template: WhatsAppTemplate | None = Field(
        default=None, description="Required outside a 24-hour service window (and for broadcasts)."
    )
    preview_url: StrictBool = False
    recipients: list[WhatsAppRecipient] = Field(default_factory=list)
    audience_id: str | None = Field(default=None, description="Submit only: a contact list.")


TargetOptions = Annotated[
    FacebookOptions | InstagramOptions | TikTokOptions | WhatsAppOptions,
    Field(discriminator="platform"),
]


def default_options(platform: Platform) -> FacebookOptions | InstagramOptions | WhatsAppOptions:
    """Options for a platform whose every option has a default (TikTok's privacy has none)."""
    defaults: dict[Platform, FacebookOptions | InstagramOptions | WhatsAppOptions] = {
        Platform.FACEBOOK: FacebookOptions(),
        Platform.INSTAGRAM: InstagramOptions(),
        Platform.WHATSAPP: WhatsAppOptions(),
    }
    if platform not in defaults:
        msg = f"{platform} has options without defaults; give them explicitly"
        raise ValueError(msg)
    return defaults[platform]
