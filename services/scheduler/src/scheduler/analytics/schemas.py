"""The analytics API's response bodies (docs/analytics.md has an example of each)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from herald.topics import Platform


class MetricValue(BaseModel):
    value: float
    platform_metric: str = Field(
        description="The platform's name of the figure; `metric.key` for one key of a breakdown.",
        examples=["post_media_view", "post_activity_by_action_type.comment", "view_count"],
    )
    by_type: dict[str, float] | None = Field(
        default=None, description="The platform's breakdown, where it gives one (reactions)."
    )


class Snapshot(BaseModel):
    age_s: int = Field(description="How long after publishing it was taken (3600: 1 h).")
    collected_at: AwareDatetime
    metrics: dict[str, MetricValue] = Field(description="Common name -> figure.")
    absent: dict[str, str] = Field(
        description="Common name -> why this post type or snapshot has no such figure (never 0)."
    )
    platform_metrics: dict[str, float | dict[str, float]] = Field(
        description="Every figure as the platform named and answered it."
    )
    unavailable: dict[str, str | None] | None = Field(
        default=None,
        description="A snapshot the platform would not give: its code and message (every "
        "metric is then absent with that reason).",
    )


class DeliveryFailure(BaseModel):
    code: str | None = Field(description="WhatsApp's error code, e.g. 131026.")
    count: int
    message: str | None


class Deliveries(BaseModel):
    """A WhatsApp target's funnel, from its recipients' furthest delivery states."""

    recipients: int
    sent: int = Field(description="Recipients WhatsApp sent to (sent, delivered or read).")
    delivered: int = Field(description="Delivered or read.")
    read: int
    failed: int
    rates: dict[str, float | None] = Field(
        description="delivered of sent, read of delivered, failed of recipients; null over 0."
    )
    by_state: dict[str, int]
    failures: list[DeliveryFailure] = Field(description="Failed recipients by error code.")
    pricing: dict[str, int] = Field(
        default_factory=dict,
        description="Messages by WhatsApp's pricing category (marketing, utility, "
        "authentication, service), from the status webhooks.",
    )


class TargetAnalytics(BaseModel):
    target_id: str
    integration_id: str
    platform: Platform
    kind: str | None = Field(description="The post kind where the platform has several.")
    platform_post_id: str | None
    permalink: str | None
    published_at: AwareDatetime | None
    latest: Snapshot | None = Field(description="The snapshot at the greatest age so far.")
    history: list[Snapshot] = Field(description="Every snapshot, by age (1 h, 24 h, 7 d, ...).")
    deliveries: Deliveries | None = Field(
        default=None, description="WhatsApp targets (they have no post insights): the funnel."
    )


class PostAnalytics(BaseModel):
    post_id: str
    targets: list[TargetAnalytics]


class Totals(BaseModel):
    targets: int = Field(description="Published targets with at least one snapshot.")
    totals: dict[str, float] = Field(
        description="Common name -> the sum over the targets that have the figure."
    )
    counted: dict[str, int] = Field(description="Common name -> how many targets it sums.")
    engagement_rate: float | None = Field(
        description="(reactions + comments + shares + saves) / reach, over the targets with "
        "reach; null without any."
    )


class PlatformTotals(Totals):
    platform: Platform


class IntegrationTotals(Totals):
    integration_id: str
    platform: Platform


class TopPost(BaseModel):
    post_id: str
    target_id: str
    platform: Platform
    integration_id: str
    platform_post_id: str | None
    value: float
    platform_metric: str
    age_s: int
    collected_at: AwareDatetime


class AnalyticsSummary(BaseModel):
    from_: AwareDatetime = Field(alias="from", description="Posts published at or after.")
    to: AwareDatetime = Field(description="Posts published before.")
    targets: int
    platforms: list[PlatformTotals]
    integrations: list[IntegrationTotals]
    metric: str = Field(description="What the top posts are ranked by.")
    top_posts: list[TopPost]
