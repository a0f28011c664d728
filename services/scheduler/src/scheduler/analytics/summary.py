"""`GET /v1/analytics/summary`: totals per platform and per integration over the posts published
in a window, engagement rates, and the top posts by a chosen metric (docs/analytics.md).

Each target counts once, by its latest snapshot. A total adds only the figures that exist: a
metric a post type lacks adds nothing and is not a 0, and `counted` says how many targets each
total is over. The engagement rate is engagements (reactions, comments, shares and saves, each
where the post type has it) per account reached, over the targets that report `reach`; without
any, it is null rather than a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.analytics.store import StoredSnapshot, latest_per_target
from scheduler.analytics.vocabulary import Figure, translate

ENGAGEMENTS = ("reactions", "comments", "shares", "saves")


@dataclass
class Group:
    """The totals of one platform or integration."""

    targets: int = 0
    totals: dict[str, float] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    engaged: float = 0.0  # engagements of the targets that report reach
    reached: float = 0.0

    def add(self, metrics: dict[str, Figure]) -> None:
        self.targets += 1
        for name, figure in metrics.items():
            self.totals[name] = self.totals.get(name, 0.0) + figure.value
            self.counted[name] = self.counted.get(name, 0) + 1
        if "reach" in metrics:
            self.reached += metrics["reach"].value
            self.engaged += sum(metrics[n].value for n in ENGAGEMENTS if n in metrics)

    @property
    def engagement_rate(self) -> float | None:
        return round(self.engaged / self.reached, 6) if self.reached > 0 else None


@dataclass(frozen=True)
class Top:
    snapshot: StoredSnapshot
    figure: Figure


@dataclass(frozen=True)
class Summary:
    targets: int
    platforms: dict[str, Group]
    integrations: dict[str, tuple[str, Group]]  # integration id -> (platform, totals)
    top: list[Top]


def summarize(
    snapshots: Sequence[StoredSnapshot], kinds: dict[str, str | None], metric: str, top: int
) -> Summary:
    """`kinds`: target id -> the post kind (Instagram's decide which metrics exist)."""
    platforms: dict[str, Group] = {}
    integrations: dict[str, tuple[str, Group]] = {}
    ranked: list[Top] = []
    latest = latest_per_target(s for s in snapshots if s.unavailable is None)
    for snapshot in latest:
        platform = snapshot.platform
        metrics = translate(platform, kinds.get(snapshot.target_id), snapshot.metrics).metrics
        platforms.setdefault(platform.value, Group()).add(metrics)
        _, group = integrations.setdefault(snapshot.integration_id, (platform.value, Group()))
        group.add(metrics)
        if metric in metrics:
            ranked.append(Top(snapshot, metrics[metric]))
    ranked.sort(key=lambda t: (-t.figure.value, t.snapshot.target_id))
    return Summary(len(latest), platforms, integrations, ranked[:top])
