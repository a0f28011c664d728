"""Compose, without the web framework: the form's fields → the scheduler's `POST /v1/posts`
body, and the same checks the API runs (the models, then `herald.rules`) with
every violation placed at the field it is about (`console.preview` shows how each platform will
read it). The API stays the authority: its 422 goes through the same `field_of`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from console.client import Integration
from herald.content import InstagramKind, MediaKind, PostContent, TikTokPrivacy
from herald.events import Schedule, SubmittedTarget, Violation
from herald.httperrors import violation_path
from herald.rules import check_target
from herald.topics import Platform

MEDIA_ROWS = 4  # media items the form offers (an Instagram carousel in order, up to four here)
_M = TypeVar("_M", bound=BaseModel)
FORM = "form"  # a problem no single field holds: shown in the summary only

PRIVACY_WORDS = {
    TikTokPrivacy.PUBLIC_TO_EVERYONE.value: "Everyone",
    TikTokPrivacy.MUTUAL_FOLLOW_FRIENDS.value: "Friends (mutual followers)",
    TikTokPrivacy.FOLLOWER_OF_CREATOR.value: "Followers",
    TikTokPrivacy.SELF_ONLY.value: "Only me",
}
TIKTOK_SWITCHES = ("disable_comment", "disable_duet", "disable_stitch")
_OPTION_FIELDS = {
    "kind": "kind",
    "privacy_level": "privacy_level",
    "disable_comment": "disable_comment",
    "disable_duet": "disable_duet",
    "disable_stitch": "disable_stitch",
    "template": "template",
    "recipients": "recipients",
    "audience_id": "audience_id",
}


@dataclass
class MediaRow:
    url: str = ""
    kind: str = MediaKind.IMAGE.value


@dataclass
class Draft:
    """What the form holds, as typed (strings), so a refused form comes back as it was."""

    text: str = ""
    link: str = ""
    media: list[MediaRow] = field(default_factory=lambda: [MediaRow() for _ in range(MEDIA_ROWS)])
    targets: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)  # "o-<integration>-<name>" → value
    when: str = "now"
    publish_at: str = ""  # datetime-local, in the business's zone
    campaign_id: str = ""
    token: str = ""  # the form's idempotency key: a second click does not post twice

    def option(self, integration_id: str, name: str) -> str:
        return self.options.get(option_name(integration_id, name), "")

    @property
    def media_used(self) -> list[int]:
        """Row numbers of the media rows with a URL, in order: a body index → its row."""
        return [i for i, row in enumerate(self.media) if row.url.strip()]


def option_name(integration_id: str, name: str) -> str:
    return f"o-{integration_id}-{name}"


OPTIONS = {
    "instagram": ("kind",),
    "tiktok": ("privacy_level", *TIKTOK_SWITCHES),
    "whatsapp": ("template", "language", "audience_id", "params", "recipients"),
}


def field_names(accounts: Sequence[Integration]) -> list[str]:
    """Every field the form shows messages at, for these accounts."""
    names = ["targets", "text", "link", "media", "publish_at", "campaign_id"]
    names += [f"media-{i}-{part}" for i in range(MEDIA_ROWS) for part in ("url", "kind")]
    for a in accounts:
        names.append(f"t-{a.integration_id}")
        names += [option_name(a.integration_id, o) for o in OPTIONS.get(a.platform, ())]
    return names


def read_form(items: Sequence[tuple[str, str]]) -> Draft:
    """A draft from the posted form's fields (`multi_items()`): unknown fields are ignored."""
    draft = Draft()
    for name, value in items:
        if name in ("text", "link", "when", "publish_at", "campaign_id", "token"):
            setattr(draft, name, value)
        elif name == "target":
            draft.targets.append(value)
        elif name.startswith("o-"):
            draft.options[name] = value
        elif found := re.fullmatch(r"media-(\d)-(url|kind)", name):
            row = int(found.group(1))
            if row < MEDIA_ROWS:
                setattr(draft.media[row], found.group(2), value)
    draft.targets = list(dict.fromkeys(draft.targets))
    return draft


def to_body(draft: Draft, accounts: Sequence[Integration], zone: str) -> dict[str, Any]:
    """The `POST /v1/posts` body the draft asks for; a later time is local to `zone`."""
    by_id = {a.integration_id: a for a in accounts}
    content: dict[str, Any] = {
        "media": [
            {"kind": draft.media[i].kind, "url": draft.media[i].url.strip()}
            for i in draft.media_used
        ]
    }
    if draft.text.strip():
        content["text"] = draft.text
    if draft.link.strip():
        content["link"] = draft.link.strip()
    targets = []
    for integration_id in draft.targets:
        account = by_id.get(integration_id)
        platform = account.platform if account else "unknown"
        target: dict[str, Any] = {"integration_id": integration_id, "platform": platform}
        options = _options(draft, integration_id, platform)
        if options is not None:
            target["options"] = options
        targets.append(target)
    body: dict[str, Any] = {"content": content, "targets": targets}
    if draft.when == "later":
        body["schedule"] = {"publish_at": _local(draft.publish_at), "timezone": zone}
    if draft.campaign_id.strip():
        body["campaign_id"] = draft.campaign_id.strip()
    return body


def _local(value: str) -> str | None:
    """`2026-12-08T09:30` (datetime-local) as the API's local date-time, seconds added."""
    value = value.strip()
    return f"{value}:00" if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", value) else value or None


def _options(draft: Draft, integration_id: str, platform: str) -> dict[str, Any] | None:
    def get(name: str) -> str:
        return draft.option(integration_id, name).strip()

    if platform == "instagram":
        return {"platform": platform, "kind": get("kind") or InstagramKind.FEED.value}
    if platform == "tiktok":
        options: dict[str, Any] = {"platform": platform}
        if get("privacy_level"):
            options["privacy_level"] = get("privacy_level")
        options |= {name: get(name) == "on" for name in TIKTOK_SWITCHES}
        return options
    if platform == "whatsapp":
        return _whatsapp(get)
    return None


def _whatsapp(get: Callable[[str], str]) -> dict[str, Any]:
    options: dict[str, Any] = {"platform": "whatsapp"}
    if get("template"):
        params = [p.strip() for p in get("params").splitlines() if p.strip()]
        template: dict[str, Any] = {"name": get("template"), "language": get("language")}
        if params:
            parameters = [{"type": "text", "text": p} for p in params]
            template["components"] = [{"type": "body", "parameters": parameters}]
        options["template"] = template
    numbers = [n.strip() for n in get("recipients").splitlines() if n.strip()]
    options["recipients"] = [
        {"recipient_id": f"console-{i + 1}", "to": n} for i, n in enumerate(numbers)
    ]
    if get("audience_id"):
        options["audience_id"] = get("audience_id")
    return options


def check(
    draft: Draft, accounts: Sequence[Integration], zone: str, now: datetime
) -> list[Violation]:
    """Every violation the API would name, from the same models and rules, plus what only the
    form can get wrong (no account, a later time not given or passed). Each target is checked
    on its own, so one target's broken options do not hide the rules of the others, and a
    target whose options are broken is still checked for its content."""
    body = to_body(draft, accounts, zone)
    shape: list[Violation] = []  # the models' refusals, as the API words them
    rules: list[Violation] = []
    content = _valid(PostContent, body["content"], ("content",), shape)
    _valid(Schedule, body.get("schedule", {}), ("schedule",), shape)
    for index, target in enumerate(body["targets"]):
        checked = _valid(SubmittedTarget, target, ("targets", index), shape)
        platform = checked.platform if checked else _platform(target["platform"])
        if content is not None and platform is not None:
            options = checked.options if checked else None
            rules += check_target(content, platform, options, path=f"targets[{index}]")
    said = {v.path for v in rules}  # a rule's sentence says more than "Field required"
    found = _form_problems(draft, body, zone, now)
    found += [v for v in shape if v.path not in said] + rules
    return list(dict.fromkeys(found))


def _valid(
    model: type[_M], value: dict[str, Any], at: tuple[str | int, ...], found: list[Violation]
) -> _M | None:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        found += [
            Violation(path=violation_path((*at, *e["loc"])), message=e["msg"], code=e["type"])
            for e in exc.errors()
        ]
        return None


def _platform(name: str) -> Platform | None:
    try:
        return Platform(name)
    except ValueError:
        return None


def _form_problems(draft: Draft, body: dict[str, Any], zone: str, now: datetime) -> list[Violation]:
    found = []
    if not draft.targets:  # the API's own words: "List should have at least 1 item"
        found.append(Violation(path="targets", code="required", message="Choose an account."))
    if draft.when == "later":
        at = body["schedule"]["publish_at"]
        try:
            moment = datetime.fromisoformat(at).replace(tzinfo=ZoneInfo(zone)) if at else None
        except ValueError:
            moment = None
        if moment is None:
            message = "Give the date and time to publish at, or choose Now."
            found.append(Violation(path="schedule.publish_at", code="required", message=message))
        elif moment <= now:
            message = "This time has passed: choose a later one, or Now."
            found.append(Violation(path="schedule.publish_at", code="in_past", message=message))
    return found


_PLAIN_FIELDS = (
    ("content.text", "text"),
    ("content.link", "link"),
    ("content.media", "media"),  # the media as a whole: how many, which kinds together
    ("content", "text"),  # the content as a whole ("needs text, a link or media")
    ("schedule", "publish_at"),
    ("campaign_id", "campaign_id"),
)


def field_of(path: str, draft: Draft) -> str:
    """The form field a violation's path is about (`targets[1].options.privacy_level` →
    `o-<integration>-privacy_level`); FORM when none holds it."""
    path = re.sub(r"^targets\[\d+\]\.content", "content", path)
    if found := re.match(r"content\.media\[(\d+)\](?:\.(\w+))?", path):
        rows = draft.media_used
        index = int(found.group(1))
        row = rows[index] if index < len(rows) else 0
        return f"media-{row}-kind" if found.group(2) == "kind" else f"media-{row}-url"
    if found := re.match(r"targets\[(\d+)\](?:\.options\.(\w+))?", path):
        return _target_field(int(found.group(1)), found.group(2) or "", path, draft)
    if path.startswith("targets"):
        return "targets"
    return next((name for prefix, name in _PLAIN_FIELDS if path.startswith(prefix)), FORM)


def _target_field(index: int, option_path: str, path: str, draft: Draft) -> str:
    if index >= len(draft.targets):
        return "targets"
    integration_id = draft.targets[index]
    option = _OPTION_FIELDS.get(option_path)
    if option == "template" and ".language" in path:
        option = "language"
    elif option == "template" and ".components" in path:
        option = "params"
    return option_name(integration_id, option) if option else f"t-{integration_id}"


def by_field(violations: Sequence[Violation], draft: Draft) -> dict[str, list[str]]:
    """Messages by form field, each once."""
    fields: dict[str, list[str]] = {}
    for v in violations:
        messages = fields.setdefault(field_of(v.path, draft), [])
        if v.message not in messages:
            messages.append(v.message)
    return fields
