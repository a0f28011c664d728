"""The accounts the sandbox's platforms know: people, Pages, Instagram and WhatsApp business
accounts, templates and TikTok creators. Created by the admin API or the demo seed.

Graph resolves every id through one `NodeIndex`, the way one Graph host serves users, Pages,
Instagram objects and WhatsApp numbers alike; the kind of a node decides which edges it has.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum


class NodeKind(StrEnum):
    USER = "User"
    PAGE = "Page"
    BUSINESS = "Business"
    SYSTEM_USER = "SystemUser"
    PAGE_POST = "PagePost"
    PHOTO = "Photo"
    VIDEO = "Video"
    IG_USER = "IGUser"
    IG_CONTAINER = "ShadowIGMediaBuilder"
    IG_MEDIA = "IGMedia"
    WABA = "WhatsAppBusinessAccount"
    PHONE_NUMBER = "WhatsAppBusinessPhoneNumber"
    WA_MEDIA = "WhatsAppBusinessMedia"


@dataclass(frozen=True)
class Node:
    kind: NodeKind
    id: str
    account: str  # the Page, IG user, phone number or WABA the node belongs to


class NodeIndex:
    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}

    def add(self, kind: NodeKind, node_id: str, account: str | None = None) -> Node:
        node = Node(kind, node_id, account or node_id)
        self._nodes[node_id] = node
        return node

    def get(self, node_id: str) -> Node | None:
        return self._nodes.get(node_id)

    def remove(self, node_id: str) -> None:
        self._nodes.pop(node_id, None)


@dataclass
class MetaUser:
    id: str
    name: str


@dataclass
class Page:
    id: str
    name: str
    category: str
    roles: dict[str, list[str]]  # user id -> tasks (CREATE_CONTENT, MANAGE, ANALYZE, ...)
    ig_user_id: str | None = None
    followers: int = 1_200


@dataclass
class IgUser:
    id: str
    username: str
    name: str
    page_id: str | None
    followers_count: int = 3_400


@dataclass
class Business:
    id: str
    name: str
    owner_user_id: str | None


@dataclass
class Waba:
    id: str
    name: str
    business_id: str
    subscribed_apps: set[str] = field(default_factory=set)
    override_callback_uri: str | None = None


@dataclass
class PhoneNumber:
    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    registered: bool = True
    throughput_mps: float | None = None  # None: the configured default
    # The two-step verification PIN, set by the first registration; `register` must repeat it.
    pin: str | None = None

    @functools.cached_property
    def digits(self) -> str:
        return "".join(ch for ch in self.display_phone_number if ch.isdigit())


@dataclass
class TemplateButton:
    sub_type: str  # quick_reply, url, copy_code, flow, catalog
    params: int


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str = "UTILITY"
    status: str = "APPROVED"
    header_format: str | None = None  # TEXT, IMAGE, VIDEO, DOCUMENT
    header_params: int = 0
    body_params: int = 0
    buttons: list[TemplateButton] = field(default_factory=list)


@dataclass
class TikTokUser:
    open_id: str
    union_id: str
    username: str
    display_name: str
    private_account: bool = False
    banned: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    follower_count: int = 5_000
    following_count: int = 120
    likes_count: int = 42_000
    bio_description: str = "Posting through the sandbox"
    is_verified: bool = False

    @property
    def privacy_level_options(self) -> list[str]:
        if self.private_account:
            return ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        return ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


@dataclass
class Accounts:
    nodes: NodeIndex = field(default_factory=NodeIndex)
    users: dict[str, MetaUser] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    ig_users: dict[str, IgUser] = field(default_factory=dict)
    businesses: dict[str, Business] = field(default_factory=dict)
    wabas: dict[str, Waba] = field(default_factory=dict)
    phone_numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    tiktok_users: dict[str, TikTokUser] = field(default_factory=dict)

    def pages_of(self, user_id: str) -> list[Page]:
        return [page for page in self.pages.values() if user_id in page.roles]

    def wabas_of_user(self, user_id: str) -> list[Waba]:
        owned = {b.id for b in self.businesses.values() if b.owner_user_id == user_id}
        return [waba for waba in self.wabas.values() if waba.business_id in owned]

    def phone_numbers_of(self, waba_id: str) -> list[PhoneNumber]:
        return [p for p in self.phone_numbers.values() if p.waba_id == waba_id]

    def template(self, waba_id: str, name: str, language: str) -> Template | None:
        for template in self.templates.values():
            if (template.waba_id, template.name, template.language) == (waba_id, name, language):
                return template
        return None
