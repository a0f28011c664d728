"""Wall-clock time in UTC, to the millisecond (what MongoDB stores), so a time read back from
the database compares exactly with the one that was written."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)
