"""The publication-time buckets of insights snapshots, and the buckets a period reads
(docs/adr/0020-analytics-read-model.md, "Reading a period").

The local store (FerretDB 1.24 on PostgreSQL) pushes only equalities down to PostgreSQL: a range
on `published_at` was decoded document by document over the whole business. So each snapshot
carries two equality keys the store can index, both of the UTC moment its target was published
(`published_at`, or its collection time less its age when the platform gave none):

- `published_day`: that day, `YYYY-MM-DD`;
- `published_week`: the Monday of its ISO week, `YYYY-MM-DD`.

A period `[start, end)` is read as the whole weeks it covers, one equality read each, and the
days left at either end, one read each: at most 6 + 6 day reads and a week read per 7 days (a
90-day period: about 24 reads). The exact bounds are applied to what those reads select.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

DAY = "published_day"
WEEK = "published_week"


def published_moment(published_at: datetime | None, collected_at: datetime, age_s: int) -> datetime:
    """When the snapshot's target was published, as the summary's window sees it."""
    return published_at or collected_at - timedelta(seconds=age_s)


def aware(value: object) -> datetime | None:
    """A datetime as UTC-aware (MongoDB gives back naive UTC ones); None for anything else."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def stored_moment(doc: Mapping[str, Any]) -> datetime:
    """`published_moment` of a stored snapshot document."""
    collected = aware(doc["collected_at"]) or doc["collected_at"]
    return published_moment(aware(doc.get("published_at")), collected, int(doc["age_s"]))


def stamp(moment: datetime) -> dict[str, str]:
    """The bucket fields of a snapshot of a target published at `moment`."""
    day = _utc_date(moment)
    return {DAY: day.isoformat(), WEEK: _monday(day).isoformat()}


def buckets(start: datetime, end: datetime) -> list[tuple[str, str]]:
    """The `(field, value)` equalities that together select every snapshot published in
    `[start, end)` (and some just outside it, on its first and last days)."""
    first = _utc_date(start)
    last = _utc_date(end - timedelta(microseconds=1))
    if end <= start or last < first:
        return []
    found: list[tuple[str, str]] = []
    day = first
    while day <= last:
        monday = _monday(day)
        if day == monday and monday + timedelta(days=6) <= last:
            found.append((WEEK, monday.isoformat()))
            day += timedelta(days=7)
        else:
            found.append((DAY, day.isoformat()))
            day += timedelta(days=1)
    return found


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _utc_date(moment: datetime) -> date:
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
