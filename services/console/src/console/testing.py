"""A fake of Herald's public APIs as the console sees them (one business, one key), for tests
of the pages without the services. It records what the console sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from console.analytics import AccountAnalytics, PostAnalytics
from console.client import ApiError, HistoryItem, Integration, Post, PostAction, PostPage
from console.webhooks_client import Delivery, Endpoint

KEY = "hk_test_secret"


@dataclass
class FakeApi:
    accounts: list[Integration] = field(default_factory=list)
    posted: list[Post] = field(default_factory=list)
    failure: ApiError | None = None
    refusal: ApiError | None = None  # what the next submission or action is answered with
    submitted: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    actions: list[tuple[str, PostAction, dict[str, Any] | None]] = field(default_factory=list)
    hooks: dict[str, Endpoint] = field(default_factory=dict)
    sent: dict[str, list[Delivery]] = field(default_factory=dict)  # by endpoint id
    hook_calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    keys: set[str] = field(default_factory=lambda: {KEY})  # bearers the APIs accept
    insights: dict[str, PostAnalytics] = field(default_factory=dict)  # by post id
    account_calls: list[tuple[str, str]] = field(default_factory=list)  # (action, id or provider)
    account_insights: dict[str, AccountAnalytics] = field(default_factory=dict)  # by integration
    histories: dict[str, list[HistoryItem]] = field(default_factory=dict)  # by post id

    async def integrations(self, api_key: str) -> list[Integration]:
        self._check(api_key)
        return self.accounts

    async def posts(self, api_key: str, *, limit: int) -> list[Post]:
        self._check(api_key)
        return self.posted[:limit]

    async def find_posts(self, api_key: str, query: dict[str, str]) -> PostPage:
        self._check(api_key)
        self.queries.append(query)
        found = [p for p in self.posted if _matches(p, query)]
        limit = int(query.get("limit", "20"))
        more = "next" if len(found) > limit else None
        return PostPage(items=found[:limit], next_cursor=more)

    async def submit_post(
        self, api_key: str, body: dict[str, Any], *, idempotency_key: str
    ) -> Post:
        self._check(api_key)
        self._refuse()
        self.submitted.append((body, idempotency_key))
        return self.posted[0]

    async def act_on_post(
        self, api_key: str, post_id: str, action: PostAction, body: dict[str, Any] | None = None
    ) -> Post:
        self._check(api_key)
        self._refuse()
        self.actions.append((post_id, action, body))
        found = next(p for p in self.posted if p.post_id == post_id)
        if action == "reschedule" and body is not None:  # moved as the scheduler moves it
            local = datetime.fromisoformat(body["publish_at"])
            due = local.replace(tzinfo=ZoneInfo(body["timezone"])).astimezone(UTC)
            found = found.model_copy(update={"due_at": due})
            self.posted = [found if p.post_id == post_id else p for p in self.posted]
        return found

    async def timeline(self, api_key: str, post_id: str) -> tuple[Post, list[HistoryItem]]:
        self._check(api_key)
        found = next((p for p in self.posted if p.post_id == post_id), None)
        if found is None:
            raise ApiError(404, f"no post {post_id} in this business")
        return found, self.histories.get(post_id, [])

    async def endpoints(self, api_key: str) -> list[Endpoint]:
        self._check(api_key)
        return list(self.hooks.values())

    async def create_endpoint(self, api_key: str, body: dict[str, Any]) -> tuple[Endpoint, str]:
        self._check(api_key)
        self._refuse()
        self.hook_calls.append(("create", "", body))
        endpoint = Endpoint.model_validate(
            {"id": f"we_{len(self.hooks) + 1}", "enabled": True, "created_at": datetime.now(UTC)}
            | body
        )
        self.hooks[endpoint.id] = endpoint
        return endpoint, f"whsec_new{len(self.hook_calls)}"

    async def update_endpoint(self, api_key: str, endpoint_id: str, body: dict[str, Any]) -> None:
        self._check(api_key)
        self._refuse()
        self.hook_calls.append(("update", endpoint_id, body))
        self.hooks[endpoint_id] = self.hooks[endpoint_id].model_copy(update=body)

    async def delete_endpoint(self, api_key: str, endpoint_id: str) -> None:
        self._check(api_key)
        self._refuse()
        self.hook_calls.append(("delete", endpoint_id, None))
        del self.hooks[endpoint_id]

    async def rotate_secret(self, api_key: str, endpoint_id: str) -> str:
        self._check(api_key)
        self._refuse()
        self.hook_calls.append(("rotate", endpoint_id, None))
        return f"whsec_rotated{len(self.hook_calls)}"

    async def deliveries(self, api_key: str, endpoint_id: str, *, limit: int) -> list[Delivery]:
        self._check(api_key)
        return self.sent.get(endpoint_id, [])[:limit]

    async def redeliver(self, api_key: str, delivery_id: str) -> None:
        self._check(api_key)
        self._refuse()
        self.hook_calls.append(("redeliver", delivery_id, None))

    async def post_analytics(self, api_key: str, post_id: str) -> PostAnalytics:
        self._check(api_key)
        if post_id not in self.insights:
            raise ApiError(404, f"no post {post_id}")
        return self.insights[post_id]

    async def account_analytics(self, api_key: str, integration_id: str) -> AccountAnalytics:
        self._check(api_key)
        if integration_id not in self.account_insights:
            raise ApiError(404, f"no integration {integration_id} in this business")
        return self.account_insights[integration_id]

    async def connect_link(self, api_key: str, provider: str, *, return_to: str) -> str:
        self._check(api_key)
        self._refuse()
        self.account_calls.append(("connect", provider))
        return f"https://auth.test/v1/oauth/{provider}/start?state=s1&back={return_to}"

    async def refresh_integration(self, api_key: str, integration_id: str) -> None:
        self._check(api_key)
        self._refuse()
        self.account_calls.append(("refresh", integration_id))

    async def disconnect_integration(self, api_key: str, integration_id: str) -> None:
        self._check(api_key)
        self._refuse()
        self.account_calls.append(("disconnect", integration_id))

    def _refuse(self) -> None:
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal

    def _check(self, api_key: str) -> None:
        if self.failure is not None:
            raise self.failure
        if api_key not in self.keys:
            raise ApiError(401, "invalid API key")


def _matches(post: Post, query: dict[str, str]) -> bool:
    if "status" in query and post.status != query["status"]:
        return False
    if "platform" in query and all(t.platform != query["platform"] for t in post.targets):
        return False
    if "campaign_id" in query and post.campaign_id != query["campaign_id"]:
        return False
    if "due_from" in query and post.due_at < datetime.fromisoformat(query["due_from"]):
        return False
    return not ("due_to" in query and post.due_at >= datetime.fromisoformat(query["due_to"]))
