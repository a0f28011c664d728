"""The insights job's clock in a test system: the platform sandbox's (docs/adr/0020).

The sandbox's clock is this machine's time plus an offset that tests move forward (`POST
/_sandbox/clock/advance`), so that a test can see a post one hour or one day old without waiting.
With `InsightsSettings.clock_url` set to the sandbox's `GET /_sandbox/clock`, the job reads that
offset before each run and takes its "now" as the machine's time plus it: the 1 h and 24 h
snapshots fall due when the sandbox's clock says so. Unset (every real deployment), the job
keeps the machine's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx


class FollowedClock:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self._url = url
        self._offset_s = 0.0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._offset_s)

    async def refresh(self) -> None:
        """Read the sandbox's offset; one that cannot be read keeps the last and raises."""
        response = await self._http.get(self._url)
        response.raise_for_status()
        offset = response.json().get("offset_s")
        if isinstance(offset, bool) or not isinstance(offset, int | float) or offset < 0:
            msg = f"{self._url} answered no offset_s of 0 seconds or more: {offset!r}"
            raise ValueError(msg)
        self._offset_s = float(offset)
