"""The scheduler's audience and broadcast routes as the console reads and calls them: audiences
(`/v1/audiences`, with their contacts and CSV imports) and the WhatsApp posts whose targets
broadcast to one (`/v1/posts?platform=whatsapp`, `/v1/posts/{id}` for the delivery counts).
Public routes only; `AudiencesApi` is the port, `HttpAudiencesApi` calls the scheduler, the
tests pass `console.testing_audiences.FakeAudiences`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from console.client import ApiError, Content, Failure, _problems


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Audience(_Read):
    audience_id: str
    name: str
    description: str | None = None
    fields: list[str] = []
    contacts: int
    opted_in: int | None = None  # a scheduler older than the field does not say
    created_at: datetime


class AudiencePage(_Read):
    items: list[Audience]
    next_cursor: str | None = None


class Contact(_Read):
    contact_id: str
    phone: str
    name: str | None = None
    opted_in: bool
    opted_in_at: datetime | None = None
    fields: dict[str, str] = {}
    status: str  # subscribed, not_opted_in, opted_out, undeliverable
    source: str
    created_at: datetime


class ContactPage(_Read):
    items: list[Contact]
    next_cursor: str | None = None


class ImportProblem(_Read):
    line: int
    row: int
    field: str | None = None
    code: str
    message: str


class ImportReport(_Read):
    rows: int
    imported: int
    rejected_rows: int
    problems: list[ImportProblem] = []


class Counts(_Read):
    """A WhatsApp target's (or post's) deliveries: each recipient once, by its furthest state."""

    recipients: int
    by_state: dict[str, int] = {}
    accepted: int = 0
    sent: int
    delivered: int
    read: int
    failed: int


class BroadcastSummary(_Read):
    audience_id: str | None = None
    batches: int | None = None  # null until the broadcast is expanded at its due time
    excluded: dict[str, int] = {}


class WhatsAppTarget(_Read):
    target_id: str
    state: str
    due_at: datetime
    role: str = "target"
    last_error: Failure | None = None
    published_at: datetime | None = None
    broadcast: BroadcastSummary | None = None
    recipients: Counts | None = None


class WhatsAppPost(_Read):
    post_id: str
    status: str
    created_at: datetime
    due_at: datetime
    content: Content
    targets: list[WhatsAppTarget]
    recipients: Counts | None = None  # on a single post's read only


class WhatsAppPage(_Read):
    items: list[WhatsAppPost]
    next_cursor: str | None = None


class AudiencesApi(Protocol):
    async def audiences(self, api_key: str, *, cursor: str | None = None) -> AudiencePage: ...

    async def audience(self, api_key: str, audience_id: str) -> Audience: ...

    async def create_audience(self, api_key: str, body: dict[str, Any]) -> Audience: ...

    async def contacts(
        self, api_key: str, audience_id: str, *, limit: int, cursor: str | None = None
    ) -> ContactPage: ...

    async def import_csv(self, api_key: str, audience_id: str, data: bytes) -> ImportReport:
        """The scheduler's row-by-row report; a file it cannot read at all is an `ApiError`
        (422 naming the line, 413 too large)."""
        ...

    async def whatsapp_posts(
        self, api_key: str, *, limit: int, cursor: str | None = None
    ) -> WhatsAppPage: ...

    async def whatsapp_post(self, api_key: str, post_id: str) -> WhatsAppPost:
        """One post with its delivery counts (`recipients`), which the listing leaves out."""
        ...


class HttpAudiencesApi:
    def __init__(self, http: httpx.AsyncClient, *, scheduler_url: str) -> None:
        self._http = http
        self._scheduler = scheduler_url

    async def audiences(self, api_key: str, *, cursor: str | None = None) -> AudiencePage:
        params = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
        found = await self._call("GET", "/v1/audiences", api_key, params=params)
        return AudiencePage.model_validate(found)

    async def audience(self, api_key: str, audience_id: str) -> Audience:
        found = await self._call("GET", f"/v1/audiences/{audience_id}", api_key)
        return Audience.model_validate(found)

    async def create_audience(self, api_key: str, body: dict[str, Any]) -> Audience:
        found = await self._call("POST", "/v1/audiences", api_key, json=body)
        return Audience.model_validate(found)

    async def contacts(
        self, api_key: str, audience_id: str, *, limit: int, cursor: str | None = None
    ) -> ContactPage:
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        path = f"/v1/audiences/{audience_id}/contacts"
        return ContactPage.model_validate(await self._call("GET", path, api_key, params=params))

    async def import_csv(self, api_key: str, audience_id: str, data: bytes) -> ImportReport:
        path = f"/v1/audiences/{audience_id}/imports"
        found = await self._call(
            "POST", path, api_key, content=data, headers={"Content-Type": "text/csv"}
        )
        return ImportReport.model_validate(found)

    async def whatsapp_posts(
        self, api_key: str, *, limit: int, cursor: str | None = None
    ) -> WhatsAppPage:
        params = {"platform": "whatsapp", "limit": str(limit)} | (
            {"cursor": cursor} if cursor else {}
        )
        return WhatsAppPage.model_validate(
            await self._call("GET", "/v1/posts", api_key, params=params)
        )

    async def whatsapp_post(self, api_key: str, post_id: str) -> WhatsAppPost:
        return WhatsAppPost.model_validate(await self._call("GET", f"/v1/posts/{post_id}", api_key))

    async def _call(
        self,
        method: str,
        path: str,
        api_key: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        try:
            response = await self._http.request(
                method,
                f"{self._scheduler}{path}",
                params=params,
                json=json,
                content=content,
                headers={"Authorization": f"Bearer {api_key}", **(headers or {})},
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"the scheduler did not answer: {exc!r}"[:300]) from exc
        if response.status_code >= 400:
            message, violations = _problems(response)
            raise ApiError(response.status_code, message, violations)
        return response.json() if response.content else None
