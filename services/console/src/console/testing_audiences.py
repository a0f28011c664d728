"""A fake of the scheduler's audience routes and WhatsApp posts as the console sees them (one
business, one key): audiences with contacts, a CSV import that checks each row the way the
scheduler's does in small (a phone in E.164, opted_in yes or no), WhatsApp posts whose counts
can be moved on between reads. It records the imports and creations it was sent."""

from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.audiences_client import (
    Audience,
    AudiencePage,
    Contact,
    ContactPage,
    ImportProblem,
    ImportReport,
    WhatsAppPage,
    WhatsAppPost,
)
from console.client import ApiError
from console.testing import KEY
from herald.events import Violation

_PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")


@dataclass
class FakeAudiences:
    now: datetime
    lists: dict[str, Audience] = field(default_factory=dict)  # the audiences, by id
    people: dict[str, list[Contact]] = field(default_factory=dict)  # contacts by audience id
    posts: dict[str, WhatsAppPost] = field(default_factory=dict)  # newest last
    reads: dict[str, list[WhatsAppPost]] = field(default_factory=dict)  # later reads of a post
    imports: list[tuple[str, bytes]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    refusal: ApiError | None = None  # what the next write is answered with
    keys: set[str] = field(default_factory=lambda: {KEY})

    async def audiences(self, api_key: str, *, cursor: str | None = None) -> AudiencePage:
        self._check(api_key)
        return AudiencePage(items=list(self.lists.values()))

    async def audience(self, api_key: str, audience_id: str) -> Audience:
        self._check(api_key)
        if audience_id not in self.lists:
            raise ApiError(404, f"no audience {audience_id} in this business")
        return self.lists[audience_id]

    async def create_audience(self, api_key: str, body: dict[str, Any]) -> Audience:
        self._check(api_key)
        self._refuse()
        self.created.append(body)
        made = Audience.model_validate(
            {"audience_id": f"au_{len(self.lists) + 1}", "contacts": 0, "opted_in": 0}
            | {"created_at": self.now}
            | body
        )
        self.lists[made.audience_id] = made
        return made

    async def contacts(
        self, api_key: str, audience_id: str, *, limit: int, cursor: str | None = None
    ) -> ContactPage:
        await self.audience(api_key, audience_id)
        every = sorted(self.people.get(audience_id, []), key=lambda c: c.phone)
        start = "" if cursor is None else base64.urlsafe_b64decode(cursor).decode()
        after = [c for c in every if c.phone > start]
        # Opaque, like the scheduler's: its url-safe base64 of the last phone shown.
        last = after[limit - 1].phone.encode() if len(after) > limit else None
        more = None if last is None else base64.urlsafe_b64encode(last).decode()
        return ContactPage(items=after[:limit], next_cursor=more)

    async def import_csv(self, api_key: str, audience_id: str, data: bytes) -> ImportReport:
        await self.audience(api_key, audience_id)
        self._refuse()
        self.imports.append((audience_id, data))
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        if rows and "phone" not in rows[0]:
            problem = Violation(path="line 1", message="no phone column", code="missing_phone")
            raise ApiError(422, "1 problem(s)", [problem])
        problems: list[ImportProblem] = []
        for n, row in enumerate(rows, start=1):
            bad = _row_problems(row, n)
            problems += bad
            if not bad:
                self._add(audience_id, row)
        rejected = len({p.row for p in problems})
        return ImportReport(
            rows=len(rows), imported=len(rows) - rejected, rejected_rows=rejected, problems=problems
        )

    async def whatsapp_posts(
        self, api_key: str, *, limit: int, cursor: str | None = None
    ) -> WhatsAppPage:
        self._check(api_key)
        newest = list(reversed(self.posts.values()))
        # The listing leaves out the delivery counts, as the scheduler's does.
        bare = [
            p.model_copy(
                update={
                    "recipients": None,
                    "targets": [t.model_copy(update={"recipients": None}) for t in p.targets],
                }
            )
            for p in newest
        ]
        return WhatsAppPage(items=bare[:limit], next_cursor="more" if len(bare) > limit else None)

    async def whatsapp_post(self, api_key: str, post_id: str) -> WhatsAppPost:
        self._check(api_key)
        if post_id not in self.posts:
            raise ApiError(404, f"no post {post_id}")
        later = self.reads.get(post_id)
        if later:  # the post moved on since the last read
            self.posts[post_id] = later.pop(0)
        return self.posts[post_id]

    def _add(self, audience_id: str, row: dict[str, str]) -> None:
        opted = row["opted_in"].strip().lower() == "yes"
        contact = Contact(
            contact_id=f"ct_{row['phone'].lstrip('+')}",
            phone=row["phone"],
            name=row.get("name") or None,
            opted_in=opted,
            status="subscribed" if opted else "not_opted_in",
            source="import",
            created_at=self.now,
        )
        self.people.setdefault(audience_id, []).append(contact)
        audience = self.lists[audience_id]
        self.lists[audience_id] = audience.model_copy(
            update={
                "contacts": audience.contacts + 1,
                "opted_in": (audience.opted_in or 0) + opted,
            }
        )

    def _refuse(self) -> None:
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal

    def _check(self, api_key: str) -> None:
        if api_key not in self.keys:
            raise ApiError(401, "invalid API key")


def _row_problems(row: dict[str, str], n: int) -> list[ImportProblem]:
    found = []
    if not _PHONE.match(row.get("phone", "").strip()):
        message = "A phone number in E.164: + then the country code and number."
        found.append(
            ImportProblem(line=n + 1, row=n, field="phone", code="invalid_phone", message=message)
        )
    if (row.get("opted_in") or "").strip().lower() not in ("yes", "no"):
        message = "opted_in must be yes or no."
        found.append(
            ImportProblem(
                line=n + 1, row=n, field="opted_in", code="missing_opt_in", message=message
            )
        )
    return found
