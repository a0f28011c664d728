"""The sandbox's notion of now: wall time plus an offset that tests may move forward.

Token expiry, 24-hour windows, container processing and quotas all read this clock, so a test
can jump a day ahead (`POST /_sandbox/clock/advance`) instead of waiting for one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            msg = "the sandbox clock only moves forward"
            raise ValueError(msg)
        self._offset += seconds
        return self.now()

    def reset(self) -> None:
        self._offset = 0.0

    @property
    def offset(self) -> float:
        return self._offset


def iso(ts: float) -> str:
    """Graph's timestamp format, e.g. `2026-11-26T04:43:04+0000`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
