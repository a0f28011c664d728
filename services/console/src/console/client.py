"""What the console reads from Herald's public APIs, with the business's API key.

Only auth-service's and the scheduler's public routes (`/v1/...`), never their stores. The
models name the fields the pages show and ignore the rest, so an API that grows a field does not
break a page. `HeraldApi` is the port; `HttpHeraldApi` calls the services; the tests pass a fake.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from console.analytics import AccountAnalytics, PostAnalytics
from console.webhooks_client import Delivery, Endpoint
from herald.events import Violation


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
    next_attempt_at: datetime | None = None
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
    campaign_id: str | None = None


class HistoryItem(_Read):
    at: datetime
    kind: str  # post.scheduled, post.dispatched, post.failed, post.retry_requested, ...
    target_id: str | None = None
    detail: dict[str, Any]


class PostPage(_Read):
    items: list[Post]
    next_cursor: str | None = None


PostAction = Literal["cancel", "retry", "schedule", "reschedule"]


class ApiError(Exception):
    """An API answered with an error (or not at all): what to tell the person."""

    def __init__(
        self, status: int, message: str, violations: list[Violation] | None = None
    ) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.violations = violations or []  # a 422's problems, each with its path


class HeraldApi(Protocol):
    async def integrations(self, api_key: str) -> list[Integration]: ...

    async def posts(self, api_key: str, *, limit: int) -> list[Post]: ...

    async def find_posts(self, api_key: str, query: dict[str, str]) -> PostPage:
        """`GET /v1/posts` with the scheduler's filters (status, platform, campaign_id,
        due_from, due_to, limit, cursor)."""
        ...

    async def submit_post(
        self, api_key: str, body: dict[str, Any], *, idempotency_key: str
    ) -> Post: ...

    async def act_on_post(
        self, api_key: str, post_id: str, action: PostAction, body: dict[str, Any] | None = None
    ) -> Post: ...

    async def timeline(self, api_key: str, post_id: str) -> tuple[Post, list[HistoryItem]]:
        """The post and everything that happened to it, oldest first."""
        ...

    async def endpoints(self, api_key: str) -> list[Endpoint]: ...

    async def create_endpoint(self, api_key: str, body: dict[str, Any]) -> tuple[Endpoint, str]:
        """The new webhook endpoint and its signing secret (shown once)."""
        ...

    async def update_endpoint(
        self, api_key: str, endpoint_id: str, body: dict[str, Any]
    ) -> None: ...

    async def delete_endpoint(self, api_key: str, endpoint_id: str) -> None: ...

    async def rotate_secret(self, api_key: str, endpoint_id: str) -> str: ...

    async def deliveries(self, api_key: str, endpoint_id: str, *, limit: int) -> list[Delivery]: ...

    async def redeliver(self, api_key: str, delivery_id: str) -> None: ...

    async def post_analytics(self, api_key: str, post_id: str) -> PostAnalytics: ...

    async def account_analytics(self, api_key: str, integration_id: str) -> AccountAnalytics: ...

    async def connect_link(self, api_key: str, provider: str, *, return_to: str) -> str:
        """auth-service's start link of a new connection, returning to `return_to`."""
        ...

    async def refresh_integration(self, api_key: str, integration_id: str) -> None: ...

    async def disconnect_integration(self, api_key: str, integration_id: str) -> None: ...


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

    async def find_posts(self, api_key: str, query: dict[str, str]) -> PostPage:
        body = await self._get(f"{self._scheduler}/v1/posts", api_key, params=query)
        return PostPage.model_validate(body)

    async def submit_post(
        self, api_key: str, body: dict[str, Any], *, idempotency_key: str
    ) -> Post:
        url = f"{self._scheduler}/v1/posts"
        answer = await self._call(
            "POST", url, api_key, json=body, headers={"Idempotency-Key": idempotency_key}
        )
        return Post.model_validate(answer)

    async def act_on_post(
        self, api_key: str, post_id: str, action: PostAction, body: dict[str, Any] | None = None
    ) -> Post:
        url = f"{self._scheduler}/v1/posts/{post_id}/{action}"
        answer = await self._call("POST", url, api_key, json=body)
        return Post.model_validate(answer["post"])

    async def timeline(self, api_key: str, post_id: str) -> tuple[Post, list[HistoryItem]]:
        url = f"{self._scheduler}/v1/posts/{post_id}"
        post, history = await asyncio.gather(  # the two reads at once
            self._get(url, api_key), self._get(f"{url}/history", api_key)
        )
        items = [HistoryItem.model_validate(e) for e in history["entries"]]
        return Post.model_validate(post), items

    async def endpoints(self, api_key: str) -> list[Endpoint]:
        body = await self._get(f"{self._scheduler}/v1/webhooks/endpoints", api_key)
        return [Endpoint.model_validate(e) for e in body["items"]]

    async def create_endpoint(self, api_key: str, body: dict[str, Any]) -> tuple[Endpoint, str]:
        url = f"{self._scheduler}/v1/webhooks/endpoints"
        answer = await self._call("POST", url, api_key, json=body)
        return Endpoint.model_validate(answer), str(answer["secret"])

    async def update_endpoint(self, api_key: str, endpoint_id: str, body: dict[str, Any]) -> None:
        url = f"{self._scheduler}/v1/webhooks/endpoints/{endpoint_id}"
        await self._call("PATCH", url, api_key, json=body)

    async def delete_endpoint(self, api_key: str, endpoint_id: str) -> None:
        url = f"{self._scheduler}/v1/webhooks/endpoints/{endpoint_id}"
        await self._call("DELETE", url, api_key)

    async def rotate_secret(self, api_key: str, endpoint_id: str) -> str:
        url = f"{self._scheduler}/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"
        return str((await self._call("POST", url, api_key))["secret"])

    async def deliveries(self, api_key: str, endpoint_id: str, *, limit: int) -> list[Delivery]:
        url = f"{self._scheduler}/v1/webhooks/endpoints/{endpoint_id}/deliveries"
        body = await self._get(url, api_key, params={"limit": str(limit)})
        return [Delivery.model_validate(d) for d in body["items"]]

    async def redeliver(self, api_key: str, delivery_id: str) -> None:
        url = f"{self._scheduler}/v1/webhooks/deliveries/{delivery_id}/redeliver"
        await self._call("POST", url, api_key)

    async def post_analytics(self, api_key: str, post_id: str) -> PostAnalytics:
        body = await self._get(f"{self._scheduler}/v1/posts/{post_id}/analytics", api_key)
        return PostAnalytics.model_validate(body)

    async def account_analytics(self, api_key: str, integration_id: str) -> AccountAnalytics:
        url = f"{self._scheduler}/v1/analytics/accounts/{integration_id}"
        return AccountAnalytics.model_validate(await self._get(url, api_key))

    async def connect_link(self, api_key: str, provider: str, *, return_to: str) -> str:
        url = f"{self._auth}/v1/oauth/{provider}/connect"
        body = await self._get(url, api_key, params={"return_to": return_to})
        return str(body["authorize_url"])

    async def refresh_integration(self, api_key: str, integration_id: str) -> None:
        await self._call("POST", f"{self._auth}/v1/integrations/{integration_id}/refresh", api_key)

    async def disconnect_integration(self, api_key: str, integration_id: str) -> None:
        await self._call("DELETE", f"{self._auth}/v1/integrations/{integration_id}", api_key)

    async def _get(self, url: str, api_key: str, params: dict[str, str] | None = None) -> Any:
        return await self._call("GET", url, api_key, params=params)

    async def _call(
        self,
        method: str,
        url: str,
        api_key: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        try:
            response = await self._http.request(
                method,
                url,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {api_key}", **(headers or {})},
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"{httpx.URL(url).host} did not answer: {exc!r}"[:300]) from exc
        if response.status_code >= 400:
            message, violations = _problems(response)
            raise ApiError(response.status_code, message, violations)
        return response.json() if response.content else None


def _problems(response: httpx.Response) -> tuple[str, list[Violation]]:
    """The envelope's message and, on a 422, its violations (each with its path)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300], []
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return response.text[:300], []
    try:
        violations = [Violation.model_validate(v) for v in body.get("violations") or []]
    except ValidationError:
        violations = []
    return str(body["message"]), violations
