"""Where a run's database time went, from services' `herald_mongo_command_seconds` metrics."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client.parser import text_string_to_metric_families

Row = tuple[float, int, str]  # seconds, commands, "service collection command"


def database_time(metrics_by_service: Mapping[str, str]) -> list[Row]:
    """Rows from each service's `/metrics` text, most time first."""
    rows: list[Row] = []
    for service, text in metrics_by_service.items():
        sums: dict[tuple[str, str], float] = {}
        counts: dict[tuple[str, str], float] = {}
        for family in text_string_to_metric_families(text):
            if family.name != "herald_mongo_command_seconds":
                continue
            for sample in family.samples:
                key = (sample.labels.get("collection", "-"), sample.labels.get("command", "-"))
                if sample.name.endswith("_sum"):
                    sums[key] = sums.get(key, 0.0) + sample.value
                elif sample.name.endswith("_count"):
                    counts[key] = counts.get(key, 0.0) + sample.value
        for key, seconds in sums.items():
            rows.append((seconds, int(counts.get(key, 0)), f"{service} {key[0]} {key[1]}"))
    return sorted(rows, reverse=True)


def print_database_time(
    metrics_by_service: Mapping[str, str], say: Callable[[str], None] = print, top: int = 12
) -> None:
    say(f"  database time by service, collection and command (top {top}; includes queueing):")
    for seconds, count, what in database_time(metrics_by_service)[:top]:
        mean_ms = 1000 * seconds / max(count, 1)
        say(f"    {seconds:8.1f} s  {count:7d} commands  {mean_ms:7.1f} ms  {what}")
