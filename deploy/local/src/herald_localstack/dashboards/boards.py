"""The dashboards: an overview, one per publisher, the scheduler, WhatsApp's pace, integrations'
health, and HTTP and database time per service. `QUIET` names the panels a short run of ordinary
traffic leaves empty, and why."""

from __future__ import annotations

from typing import Any

from herald.topics import PLATFORMS
from herald_localstack.dashboards.panels import RATE, Query, board, panel, quantiles, stat_panel
from herald_localstack.dashboards.publishers import publisher, whatsapp_pace

# Panels a short run of ordinary traffic leaves without data, and why (the e2e test's list).
QUIET = {
    "Dead letters in 24 h": "only when a request gives up",
    "Overdue dispatches in 1 h": "only after downtime or overload",
    "Token refreshes": "auth-service refreshes tokens close to their expiry",
    "Retries and waits by tier": "only when a platform call is retried or must wait",
    "Platform call errors": "only when a platform answers with an error",
    "130429 refusals": "only when WhatsApp throttles a number",
    "Accounts needing reconnection": "only when an account expires or is disconnected",
    "Integrations expiring": "only when a token nears its expiry",
    "Unexpected errors": "only when work is put back",
    "Webhook attempt time": "only when a business's webhook endpoint is sent a notice",
    "Webhook endpoints disabled in 24 h": "only when an endpoint keeps failing",
}
WEBHOOK_SECONDS = "herald_scheduler_webhook_attempt_seconds_bucket"


def overview() -> Any:
    outcomes = 'herald_publish_outcomes_total{outcome=~"published|failed|dead_lettered|retry.*"}'
    return board(
        "herald-overview",
        "Herald: overview",
        [
            panel(
                "Posts submitted",
                "reqps",
                Query(
                    'sum(rate(herald_http_requests_total{route="/v1/posts", method="POST", '
                    f'status=~"2.."}}[{RATE}]))',
                    "REST API",
                ),
                Query(
                    'sum by (outcome) (rate(herald_scheduler_ingestion_total{outcome!="rejected"}'
                    f"[{RATE}]))",
                    "post.submitted {{outcome}}",
                ),
            ),
            panel(
                "Targets dispatched per platform",
                "ops",
                Query(
                    'sum by (platform) (rate(herald_scheduler_dispatches_total{outcome="sent"}'
                    f"[{RATE}]))",
                    "{{platform}}",
                ),
            ),
            panel(
                "Published, failed and retried per platform",
                "ops",
                Query(
                    f"sum by (platform, outcome) (rate({outcomes}[{RATE}]))",
                    "{{platform}} {{outcome}}",
                ),
            ),
            panel(
                "Failure ratio (finished publishes, 10 min)",
                "percentunit",
                Query("herald:publish_failure_ratio:rate10m", "{{platform}}"),
            ),
            panel(
                "Due to published (submit to published for posts sent at once)",
                "s",
                *quantiles("herald_publish_latency_seconds", "platform"),
            ),
            panel(
                "Dead letters in 24 h",
                "short",
                Query(
                    "sum by (platform) (increase(herald_dead_letters_total[24h]))", "{{platform}}"
                ),
                description="Requests given up and sent to post.requested.<platform>.dlq.",
            ),
            panel(
                "Dead-letter topics: messages held",
                "short",
                Query(
                    'max by (topic) (herald_kafka_topic_messages{topic=~".*[.]dlq"})', "{{topic}}"
                ),
                description="What each DLQ holds (a replay copies messages back and leaves "
                "them; retention removes them).",
            ),
            panel(
                "Consumer lag",
                "short",
                Query(
                    'sum by (group) (herald_kafka_consumer_lag{group!~".*[.]delay[.].*"})',
                    "{{group}}",
                ),
                description="Messages waiting per consumer group (delay tiers, which wait on "
                "purpose, on each publisher's own dashboard).",
            ),
            panel(
                "Unexpected errors",
                "ops",
                Query(
                    f"sum by (service, stage) (rate(herald_unexpected_errors_total[{RATE}]))",
                    "{{service}} {{stage}}",
                ),
            ),
        ],
    )


def scheduler() -> Any:
    return board(
        "herald-scheduler",
        "Herald: scheduler",
        [
            panel(
                "Dispatch lateness (acknowledged minus due)",
                "s",
                *quantiles("herald_scheduler_dispatch_delay_seconds", "platform"),
            ),
            panel(
                "Queue depth",
                "short",
                Query("sum(herald_scheduler_pending_targets)", "in the dispatch queue"),
                Query("sum by (state) (herald_scheduler_targets)", "unfinished {{state}}"),
            ),
            panel(
                "Overdue dispatches in 1 h",
                "short",
                Query(
                    "sum by (platform) (increase(herald_scheduler_overdue_dispatches_total[1h]))",
                    "{{platform}}",
                ),
            ),
            panel(
                "Dispatches by outcome",
                "ops",
                Query(
                    f"sum by (outcome) (rate(herald_scheduler_dispatches_total[{RATE}]))",
                    "{{outcome}}",
                ),
            ),
            panel(
                "Results recorded",
                "ops",
                Query(
                    f"sum by (event, effect) (rate(herald_scheduler_results_total[{RATE}]))",
                    "{{event}} {{effect}}",
                ),
            ),
            panel(
                "Dispatcher heartbeat age",
                "s",
                Query(
                    "max by (instance) (herald_scheduler_dispatcher_heartbeat_age_seconds)",
                    "{{instance}}",
                ),
            ),
            *webhook_panels(),
        ],
    )


def webhook_panels() -> list[Any]:
    """Outbound webhooks to businesses' endpoints (ADR 0021), every endpoint together."""
    return [
        panel(
            "Webhook attempts by outcome",
            "ops",
            Query(
                f"sum by (outcome) (rate(herald_scheduler_webhook_attempts_total[{RATE}]))",
                "{{outcome}}",
            ),
            description="delivered: answered 2xx; failed: tried again later; gave_up: no more "
            "attempts. HeraldWebhookDeliveriesFailing reads herald:webhook_failure_ratio:rate15m.",
        ),
        panel(
            "Webhook attempt time",
            "s",
            *(
                Query(f"histogram_quantile({q}, sum by (le) (rate({WEBHOOK_SECONDS}[{RATE}])))", p)
                for q, p in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))
            ),
        ),
        stat_panel(
            "Webhook endpoints disabled in 24 h",
            "short",
            Query("sum(increase(herald_scheduler_webhook_endpoints_disabled_total[24h]))"),
        ),
    ]


def integrations() -> Any:
    return board(
        "herald-integrations",
        "Herald: integrations",
        [
            stat_panel(
                "Accounts needing reconnection",
                "short",
                Query("sum(herald:integrations_needing_reconnection)", "expired or disconnected"),
            ),
            stat_panel(
                "Integrations expiring",
                "short",
                Query('sum(herald_auth_integrations{status="expiring"})', "expiring"),
            ),
            panel(
                "Integrations by provider and status",
                "short",
                Query(
                    "sum by (provider, status) (herald_auth_integrations)",
                    "{{provider}} {{status}}",
                ),
            ),
            panel(
                "OAuth callbacks",
                "ops",
                Query(
                    f"sum by (provider, outcome) (rate(herald_auth_oauth_callbacks_total[{RATE}]))",
                    "{{provider}} {{outcome}}",
                ),
            ),
        ],
    )


def services() -> Any:
    return board(
        "herald-services",
        "Herald: HTTP and database time per service",
        [
            panel(
                "HTTP requests by service",
                "reqps",
                Query(
                    f"sum by (instance, status) (rate(herald_http_requests_total[{RATE}]))",
                    "{{instance}} {{status}}",
                ),
            ),
            panel(
                "HTTP time p95 by service and route",
                "s",
                Query(
                    "histogram_quantile(0.95, sum by (instance, route, le) "
                    f"(rate(herald_http_request_seconds_bucket[{RATE}])))",
                    "{{instance}} {{route}}",
                ),
            ),
            panel(
                "Database time p95 by service and command",
                "s",
                Query(
                    "histogram_quantile(0.95, sum by (database, collection, command, le) "
                    f"(rate(herald_mongo_command_seconds_bucket[{RATE}])))",
                    "{{database}} {{collection}} {{command}}",
                ),
            ),
            panel(
                "Database commands by service",
                "ops",
                Query(
                    f"sum by (database) (rate(herald_mongo_command_seconds_count[{RATE}]))",
                    "{{database}}",
                ),
            ),
            panel(
                "CPU by service",
                "percentunit",
                Query(
                    f'sum by (instance) (rate(process_cpu_seconds_total{{job="herald"}}[{RATE}]))',
                    "{{instance}}",
                ),
            ),
            panel(
                "Memory by service",
                "bytes",
                Query(
                    'sum by (instance) (process_resident_memory_bytes{job="herald"})',
                    "{{instance}}",
                ),
            ),
        ],
    )


def boards() -> dict[str, Any]:
    """File name → dashboard builder."""
    found = {
        "overview": overview(),
        "scheduler": scheduler(),
        "whatsapp-pace": whatsapp_pace(),
        "integrations": integrations(),
        "services": services(),
    }
    for platform in PLATFORMS:
        found[f"publisher-{platform.value}"] = publisher(platform)
    return found
