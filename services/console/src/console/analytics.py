"""A post's analytics as the page shows them, without the web framework: the scheduler's
`GET /v1/posts/{id}/analytics` read (the fields shown), each target's latest figures, and a
small bar chart drawn on the server as SVG (no script, no library: a few rectangles whose sizes
are worked out here), with the same figures in a table beside it for screen readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Figure(_Read):
    value: float
    platform_metric: str


class Snapshot(_Read):
    age_s: int
    collected_at: datetime
    metrics: dict[str, Figure] = {}
    absent: dict[str, str] = {}


class Deliveries(_Read):
    recipients: int
    sent: int
    delivered: int
    read: int
    failed: int


class TargetAnalytics(_Read):
    target_id: str
    integration_id: str
    platform: str
    permalink: str | None = None
    published_at: datetime | None = None
    latest: Snapshot | None = None
    history: list[Snapshot] = []
    deliveries: Deliveries | None = None


class PostAnalytics(_Read):
    post_id: str
    targets: list[TargetAnalytics]


class AccountDay(_Read):
    day: date
    collected_at: datetime
    metrics: dict[str, Figure] = {}
    absent: dict[str, str] = {}
    unavailable: dict[str, str | None] | None = None


class AccountAnalytics(_Read):
    """The scheduler's `GET /v1/analytics/accounts/{id}` (ADR 0020): an account's figures by
    UTC day."""

    integration_id: str
    platform: str
    from_: date = Field(alias="from")
    to: date
    days: list[AccountDay] = []
    not_collected: list[date] = []
    not_collected_reason: str | None = None


CHART_METRICS = ("views", "reach", "interactions", "reactions", "comments", "shares")
ACCOUNT_CHART_METRICS = ("followers", "reach", "views", "interactions")
WIDTH, HEIGHT, GAP = 320, 120, 12  # the chart's viewBox and the space between bars


@dataclass(frozen=True)
class Bar:
    label: str  # "1 h", "24 h", "7 d", or a funnel step
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    title: str  # "Views by the post's age"
    bars: list[Bar]


def age(seconds: int) -> str:
    """`3600` is "1 h", `86400` "24 h", `604800` "7 d": a snapshot's age as people say it."""
    if seconds >= 2 * 86_400 and seconds % 86_400 == 0:
        return f"{seconds // 86_400} d"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds // 60} min"


def bars(points: list[tuple[str, float]]) -> list[Bar]:
    """Bars side by side across the chart, the tallest filling its height (a zero is a
    hairline, so a bar is always there to read)."""
    if not points:
        return []
    top = max(value for _, value in points) or 1.0
    width = (WIDTH - GAP * (len(points) - 1)) / len(points)
    found = []
    for index, (label, value) in enumerate(points):
        height = max(1.0, HEIGHT * value / top)
        x = index * (width + GAP)
        found.append(
            Bar(
                label,
                value,
                round(x, 1),
                round(HEIGHT - height, 1),
                round(width, 1),
                round(height, 1),
            )
        )
    return found


def chart(target: TargetAnalytics) -> Chart | None:
    """The first common metric the target's snapshots carry, by age; or its WhatsApp funnel."""
    if target.deliveries is not None:
        d = target.deliveries
        steps = [
            ("Sent", d.sent),
            ("Delivered", d.delivered),
            ("Read", d.read),
            ("Failed", d.failed),
        ]
        return Chart(
            "Messages: sent, delivered, read, failed", bars([(s, float(n)) for s, n in steps])
        )
    history = sorted(target.history, key=lambda s: s.age_s)
    for metric in CHART_METRICS:
        points = [(age(s.age_s), s.metrics[metric].value) for s in history if metric in s.metrics]
        if points:
            return Chart(f"{metric.replace('_', ' ').capitalize()} by the post's age", bars(points))
    return None


def account_chart(account: AccountAnalytics) -> Chart | None:
    """The first of followers, reach, views, interactions the days carry, day by day (a label
    on every seventh bar and the last, so a month stays legible)."""
    for metric in ACCOUNT_CHART_METRICS:
        points = [(f"{d.day:%d %b}", d.metrics[metric].value) for d in account.days
                  if metric in d.metrics]  # fmt: skip
        if points:
            last = len(points) - 1
            labelled = [
                (label if i % 7 == 0 or i == last else "", value)
                for i, (label, value) in enumerate(points)
            ]
            return Chart(f"{metric.capitalize()} by day", bars(labelled))
    return None
