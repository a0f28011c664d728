"""What the console reads from Herald's public APIs, with the business's API key.

Only auth-service's and the scheduler's public routes (`/v1/...`), never their stores. The
models name the fields the pages show and ignore the rest, so an API that grows a field does not
break a page. `HeraldApi` is the port; `HttpHeraldApi` calls the services; the tests pass a fake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Integration(_Read):
    integration_id: str
    platform: str
    account_id: str
    account_name: str | None = None
    status: str  # active, expiring, expired, disconnected
    connected_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    reauthorize_by: datetime | None = None
    last_error: str | None = None
    reason: str | None = None
    disconnected_at: datetime | None = None


class Failure(_Read):
    category: str
    code: str | None = None
    message: str
    remediation: str | None = None


class Target(_Read):
    target_id: str
    integration_id: str
    platform: str
    state: str
    attempts: int
    due_at: datetime
    last_error: Failure | None = None
    permalink: str | None = None
    published_at: datetime | None = None
    role: str = "target"


class Content(_Read):
    text: str | None = None


class Post(_Read):
    post_id: str
    status: str
    created_at: datetime
    due_at: datetime
    content: Content
    targets: list[Target]


class ApiError(Exception):
    """An API answered with an error (or not at all): what to tell the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class HeraldApi(Protocol):
    async def integrations(self, api_key: str) -> list[Integration]: ...

    async def posts(self, api_key: str, *, limit: int) -> list[Post]: ...


class HttpHeraldApi:
    def __init__(self, http: httpx.AsyncClient, *, auth_url: str, scheduler_url: str) -> None:
        self._http = http
        self._auth = auth_url
        self._scheduler = scheduler_url

    async def integrations(self, api_key: str) -> list[Integration]:
        body = await self._get(f"{self._auth}/v1/integrations", api_key)
        return [Integration.model_validate(i) for i in body["integrations"]]

    async def posts(self, api_key: str, *, limit: int) -> list[Post]:
        url = f"{self._scheduler}/v1/posts"
        body = await self._get(url, api_key, params={"limit": str(limit)})
        return [Post.model_validate(p) for p in body["items"]]

    async def _get(self, url: str, api_key: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.get(
                url, params=params, headers={"Authorization": f"Bearer {api_key}"}
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"{httpx.URL(url).host} did not answer: {exc!r}"[:300]) from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _message(response))
        return response.json()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.text[:300]
