"""The ledger: every side effect a platform's users could see, with the request behind it.

Tests count publishes per target and find duplicates here (`GET /_sandbox/ledger`). Entries
carry a caller-supplied marker: the `X-Sandbox-Marker` header when a client sends it, else the
first `herald-marker:<id>` found in the posted text (both configurable), so end-to-end tests can
tag a post without any help from the code under test.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from platform_sandbox.clock import iso


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: float
    platform: str
    kind: str  # post_created, photo_uploaded, video_published, media_published, ...
    account: str
    object_id: str
    marker: str | None
    text: str | None
    request: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": iso(self.at),
            "at_unix": self.at,
            "platform": self.platform,
            "kind": self.kind,
            "account": self.account,
            "object_id": self.object_id,
            "marker": self.marker,
            "text": self.text,
            "request": dict(self.request),
        }


@dataclass(frozen=True)
class LedgerQuery:
    platform: str | None = None
    kind: str | None = None
    account: str | None = None
    marker: str | None = None
    contains: str | None = None
    since_seq: int | None = None

    def matches(self, entry: LedgerEntry) -> bool:
        return (
            (self.platform is None or entry.platform == self.platform)
            and (self.kind is None or entry.kind == self.kind)
            and (self.account is None or entry.account == self.account)
            and (self.marker is None or entry.marker == self.marker)
            and (self.contains is None or self.contains in (entry.text or ""))
            and (self.since_seq is None or entry.seq > self.since_seq)
        )


@dataclass
class Ledger:
    marker_header: str
    marker_pattern: re.Pattern[str]
    _entries: list[LedgerEntry] = field(default_factory=list)
    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def marker(self, headers: Mapping[str, str], texts: Iterable[str | None]) -> str | None:
        header = headers.get(self.marker_header.lower())
        if header:
            return header
        for text in texts:
            if text:
                found = self.marker_pattern.search(text)
                if found:
                    return found.group(1)
        return None

    def record(
        self,
        *,
        platform: str,
        kind: str,
        account: str,
        object_id: str,
        at: float,
        marker: str | None,
        text: str | None,
        request: Mapping[str, Any],
    ) -> LedgerEntry:
        entry = LedgerEntry(
            next(self._seq), at, platform, kind, account, object_id, marker, text, request
        )
        self._entries.append(entry)
        return entry

    def query(self, query: LedgerQuery) -> list[LedgerEntry]:
        return [entry for entry in self._entries if query.matches(entry)]

    def duplicates(self, query: LedgerQuery) -> dict[str, int]:
        """Markers seen more than once among the entries `query` selects."""
        counts = Counter(e.marker for e in self.query(query) if e.marker is not None)
        return {marker: n for marker, n in counts.items() if n > 1}

    def clear(self) -> None:
        self._entries.clear()
