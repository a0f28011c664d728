"""What a page shows, worked out from the API's answers: status words, remediations, times in
the business's time zone. Plain functions, so the pages' logic is tested without a browser."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from console.client import Integration, Post, Target
from herald.rules.common import PLATFORM_NAMES
from herald.topics import Platform

REMEDIATION = {
    "expiring": "Reconnect the account before then so publishing does not stop.",
    "expired": "Reconnect the account: its authorization ended, and posts to it will fail.",
    "disconnected": "Connect the account again to publish to it.",
}
TONE = {"active": "ok", "expiring": "warn", "expired": "bad", "disconnected": "off"}


@dataclass(frozen=True)
class IntegrationRow:
    integration: Integration
    label: str  # "Active", "Expiring in 3 days", "Needs reconnecting", "Disconnected"
    tone: str
    remediation: str | None


@dataclass(frozen=True)
class TargetRow:
    target: Target
    account: str
    outcome: str
    tone: str


@dataclass(frozen=True)
class PostRow:
    post: Post
    targets: list[TargetRow]


def status_label(integration: Integration, now: datetime) -> str:
    status = integration.status
    if status == "expiring":
        ends = integration.reauthorize_by or integration.expires_at
        if ends is None:
            return "Expiring soon"
        days = max(0, math.ceil((ends - now).total_seconds() / 86_400))
        return f"Expiring in {days} day" + ("" if days == 1 else "s")
    if status == "expired":
        return "Needs reconnecting"
    return status.capitalize()


def integration_rows(integrations: list[Integration], now: datetime) -> list[IntegrationRow]:
    ordered = sorted(integrations, key=lambda i: (i.platform, i.account_name or i.account_id))
    return [
        IntegrationRow(
            integration=i,
            label=status_label(i, now),
            tone=TONE.get(i.status, "off"),
            remediation=REMEDIATION.get(i.status),
        )
        for i in ordered
    ]


def post_rows(posts: list[Post], integrations: list[Integration]) -> list[PostRow]:
    """Each post with the targets a person sent to (a broadcast's batches are its own detail)."""
    names = {i.integration_id: i.account_name or i.account_id for i in integrations}
    rows = []
    for post in posts:
        targets = [
            TargetRow(
                target=t,
                account=names.get(t.integration_id, t.integration_id),
                outcome=t.state.replace("_", " ").capitalize(),
                tone=_target_tone(t.state),
            )
            for t in post.targets
            if t.role != "batch"
        ]
        rows.append(PostRow(post=post, targets=targets))
    return rows


def _target_tone(state: str) -> str:
    if state == "published":
        return "ok"
    if state == "failed":
        return "bad"
    if state in ("retrying", "dispatched", "scheduled"):
        return "warn"
    return "off"


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """`2026-12-07 11:30 CET`, in the business's zone; an em dash for none."""
    if value is None:
        return "\u2014"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def platform_name(platform: str) -> str:
    """The platform's display name, as the API's rules write it; an unknown name as it came."""
    try:
        return PLATFORM_NAMES[Platform(platform)]
    except ValueError:
        return platform
