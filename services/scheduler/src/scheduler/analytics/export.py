"""CSV of a post's analytics (`Accept: text/csv`): one row per target, snapshot and common
metric, with the platform's name beside each figure and the reason where it is absent; for a
WhatsApp target, one row per step of its delivery funnel and per failure code."""

from __future__ import annotations

import csv
import io

from scheduler.analytics.schemas import PostAnalytics

COLUMNS = (
    "post_id",
    "target_id",
    "platform",
    "integration_id",
    "platform_post_id",
    "age_s",
    "collected_at",
    "metric",
    "value",
    "platform_metric",
    "absent_reason",
)


def post_csv(analytics: PostAnalytics) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for target in analytics.targets:
        ref = [
            analytics.post_id,
            target.target_id,
            target.platform.value,
            target.integration_id,
            _cell(target.platform_post_id or ""),
        ]
        for snapshot in target.history:
            at = [snapshot.age_s, snapshot.collected_at.isoformat()]
            for name, figure in snapshot.metrics.items():
                writer.writerow([*ref, *at, name, f"{figure.value:g}", figure.platform_metric, ""])
            for name, reason in snapshot.absent.items():
                writer.writerow([*ref, *at, name, "", "", reason])
        if target.deliveries is not None:  # WhatsApp: the funnel, from the delivery statuses
            funnel = target.deliveries
            counts = {"recipients": funnel.recipients, "sent": funnel.sent}
            counts |= {"delivered": funnel.delivered, "read": funnel.read, "failed": funnel.failed}
            for name, count in counts.items():
                writer.writerow([*ref, "", "", f"deliveries.{name}", count, "message.status", ""])
            for category, count in funnel.pricing.items():
                name = f"deliveries.pricing.{category}"
                writer.writerow([*ref, "", "", name, count, "pricing.category", ""])
            for failure in funnel.failures:
                name = f"deliveries.failed.{failure.code or 'unknown'}"
                writer.writerow([*ref, "", "", name, failure.count, "message.status", ""])
    return out.getvalue()


def _cell(text: str) -> str:
    """A value from outside that a spreadsheet would read as a formula is kept as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
