"""The business's Overview, without the web framework: the period a person picks (7, 28 or 90
days), the scheduler's `GET /v1/analytics/summary` for it (one call, whatever the history: the
scheduler adds up its snapshots, the console reads no post list), read into rows per platform,
engagement totals, the top posts, a bar chart of published posts by platform (drawn by
`console.analytics.bars`), and the connected accounts that need attention."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from console.analytics import Chart, bars

PERIODS = (7, 28, 90)
DEFAULT_PERIOD = 28
TOP = 5
# The totals the page shows, in this order, where any platform has them.
SHOWN = ("views", "reach", "interactions", "reactions", "comments", "shares", "saves", "clicks")


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Totals(_Read):
    targets: int
    totals: dict[str, float] = {}
    counted: dict[str, int] = {}
    engagement_rate: float | None = None


class PlatformTotals(Totals):
    platform: str


class TopPost(_Read):
    post_id: str
    platform: str
    integration_id: str
    value: float
    platform_metric: str
    collected_at: datetime


class Summary(_Read):
    from_: datetime = Field(alias="from")
    to: datetime
    targets: int
    platforms: list[PlatformTotals] = []
    metric: str = "views"
    top_posts: list[TopPost] = []


def read_period(params: Mapping[str, str]) -> tuple[int, str | None]:
    """The period in days, and a problem naming `days` when it is not one offered."""
    asked = params.get("days", "")
    if not asked:
        return DEFAULT_PERIOD, None
    if asked.isdigit() and int(asked) in PERIODS:
        return int(asked), None
    offered = ", ".join(str(p) for p in PERIODS)
    return DEFAULT_PERIOD, f"days must be one of {offered}; showing {DEFAULT_PERIOD}."


def query(now: datetime, days: int) -> dict[str, str]:
    return {
        "from": (now - timedelta(days=days)).isoformat(),
        "to": now.isoformat(),
        "metric": "views",
        "top": str(TOP),
    }


@dataclass(frozen=True)
class Total:
    name: str  # "views"
    value: float
    counted: int  # over how many published posts


def totals(summary: Summary) -> list[Total]:
    """Each shown figure summed over the platforms that have it (none is not a zero)."""
    found = []
    for name in SHOWN:
        having = [p for p in summary.platforms if name in p.totals]
        if having:
            value = sum(p.totals[name] for p in having)
            found.append(Total(name, value, sum(p.counted.get(name, 0) for p in having)))
    return found


def engagement_rate(summary: Summary) -> float | None:
    """Engagements per account reached over every platform that reports reach, weighted by its
    reach (the scheduler's rate per platform, put together)."""
    reached = [(p.totals["reach"], p.engagement_rate) for p in summary.platforms
               if p.engagement_rate is not None and p.totals.get("reach")]  # fmt: skip
    reach = sum(r for r, _ in reached)
    return sum(r * (rate or 0.0) for r, rate in reached) / reach if reach else None


def chart(summary: Summary, names: Callable[[str], str]) -> Chart | None:
    points = [(names(p.platform), float(p.targets)) for p in summary.platforms]
    return Chart("Published posts with figures, by platform", bars(points)) if points else None


def columns(platforms: Sequence[PlatformTotals]) -> list[str]:
    """The figures of the per-platform table: those any platform has, in SHOWN's order."""
    return [name for name in SHOWN if any(name in p.totals for p in platforms)]


def figure(value: float) -> str:
    """`1234.0` is "1,234", `2.5` is "2.5"."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")
