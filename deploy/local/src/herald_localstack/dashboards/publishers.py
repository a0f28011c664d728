"""One dashboard per publisher, and WhatsApp's pace against each number's limit."""

from __future__ import annotations

from typing import Any

from herald.topics import Platform
from herald_localstack.dashboards.panels import RATE, Query, board, panel, quantiles


def publisher(platform: Platform) -> Any:
    """Platform calls (latency, errors by category), the ledger's outcomes, retries and waits
    by delay tier, token refreshes, the insights job (not WhatsApp's: it has none), and the
    publisher's lag."""
    name = platform.value
    on = f'platform="{name}"'
    group = f'group=~".*herald-publisher-{name}.*"'
    panels = [
        panel(
            "Handle time",
            "s",
            *quantiles("herald_publish_handle_seconds", "platform", f"{{{on}}}"),
        ),
        panel(
            "Platform call latency",
            "s",
            Query(
                "histogram_quantile(0.95, sum by (endpoint, le) "
                f"(rate(herald_platform_request_seconds_bucket{{{on}}}[{RATE}])))",
                "p95 {{endpoint}}",
            ),
        ),
        panel(
            "Platform call errors",
            "ops",
            Query(
                "sum by (endpoint, outcome) (rate(herald_platform_requests_total"
                f'{{{on}, outcome!="ok"}}[{RATE}]))',
                "{{endpoint}} {{outcome}}",
            ),
        ),
        panel(
            "Ledger outcomes",
            "ops",
            Query(
                f"sum by (outcome) (rate(herald_publish_outcomes_total{{{on}}}[{RATE}]))",
                "{{outcome}}",
            ),
            description="published, republished (the ledger knew it), busy, retry, wait, "
            "failed, dead_lettered, ...",
        ),
        panel(
            "Errors by category",
            "ops",
            Query(
                f'sum by (category) (rate(herald_publish_outcomes_total{{{on}, category!=""}}'
                f"[{RATE}]))",
                "{{category}}",
            ),
        ),
        panel(
            "Retries and waits by tier",
            "ops",
            Query(
                f"sum by (tier, reason) (rate(herald_delay_tier_messages_total{{{on}}}[{RATE}]))",
                "{{tier}} {{reason}}",
            ),
        ),
        panel(
            "Token refreshes",
            "ops",
            Query(
                f'sum by (outcome) (rate(herald_auth_token_refresh_total{{provider="{name}"}}'
                f"[{RATE}]))",
                "{{outcome}}",
            ),
        ),
        *(_insights(on) if platform is not Platform.WHATSAPP else []),
        panel(
            "Lag by group and partition",
            "short",
            Query(
                f"sum by (group, partition) (herald_kafka_consumer_lag{{{group}}})",
                "{{group}} {{partition}}",
            ),
        ),
    ]
    return board(f"herald-publisher-{name}", f"Herald: publisher-{name}", panels)


def _insights(on: str) -> list[Any]:
    """The insights job (ADR 0003): its snapshots by outcome, and how much of its queue each run
    read (twice insights.batch: it is falling behind)."""
    return [
        panel(
            "Insights snapshots",
            "ops",
            Query(
                f"sum by (outcome) (rate(herald_insights_snapshots_total{{{on}}}[{RATE}]))",
                "{{outcome}}",
            ),
            description="collected, retry (transient), unavailable (the platform will not give "
            "it: each is told as herald.post.insights_unavailable.v1 with its reason)",
        ),
        panel(
            "Insights queue read per run",
            "short",
            Query(f"max(herald_insights_queue_entries_read{{{on}}})", "entries"),
        ),
    ]


def whatsapp_pace() -> Any:
    ratio = "herald_whatsapp_number_send_rate_ratio_bucket"
    return board(
        "herald-whatsapp-pace",
        "Herald: WhatsApp pace",
        [
            panel(
                "Messages accepted per second",
                "ops",
                Query(
                    f'sum(rate(herald_whatsapp_messages_total{{outcome="accepted"}}[{RATE}]))',
                    "accepted",
                ),
            ),
            panel(
                "Busiest seconds against the number's limit",
                "percentunit",
                Query(f"histogram_quantile(0.99, sum by (le) (rate({ratio}[{RATE}])))", "p99"),
                Query(f"histogram_quantile(0.5, sum by (le) (rate({ratio}[{RATE}])))", "p50"),
                description="Messages one number sent in one second as a share of its "
                "throughput limit: 1 is the limit.",
            ),
            panel(
                "130429 refusals",
                "short",
                Query(
                    'sum(increase(herald_whatsapp_throttles_total{code="130429"}[1h]))',
                    "in the last hour",
                ),
            ),
            panel(
                "Pace wait",
                "s",
                Query(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(herald_whatsapp_pace_wait_seconds_bucket[{RATE}])))",
                    "p95",
                ),
            ),
        ],
    )
