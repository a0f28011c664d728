"""The scheduler's campaign routes (`/v1/campaigns`) and its analytics summary
(`GET /v1/analytics/summary`) as the console reads them: a port of its own beside `HeraldApi`
(console.client), with the same bearer, error envelope and tolerant models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from console.client import HttpHeraldApi
from console.overview import Summary


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CampaignRecurrence(_Read):
    rule: str
    timezone: str
    starts_at: datetime  # local, naive


class Campaign(_Read):
    campaign_id: str
    name: str
    description: str | None = None
    status: str  # active or ended
    recurrence: CampaignRecurrence | None = None
    created_at: datetime
    planned_until: datetime | None = None
    last_problems: list[str] = []
    cancelled_posts: int | None = None


class SchedulerApi(Protocol):
    async def create_campaign(self, api_key: str, body: dict[str, Any]) -> Campaign: ...

    async def campaigns(self, api_key: str) -> list[Campaign]: ...

    async def end_campaign(self, api_key: str, campaign_id: str, *, keep_posts: bool) -> Campaign:
        """End it; the scheduler cancels its future posts unless `keep_posts`."""
        ...

    async def summary(self, api_key: str, query: dict[str, str]) -> Summary:
        """`GET /v1/analytics/summary` with `from`, `to`, `metric`, `top`."""
        ...


class HttpSchedulerApi(HttpHeraldApi):
    """Over HTTP, through `HttpHeraldApi`'s calls (bearer, envelope, 503 when it is down)."""

    def __init__(self, http: httpx.AsyncClient, *, scheduler_url: str) -> None:
        super().__init__(http, auth_url="", scheduler_url=scheduler_url)
        self._campaigns = f"{scheduler_url}/v1/campaigns"

    async def create_campaign(self, api_key: str, body: dict[str, Any]) -> Campaign:
        return Campaign.model_validate(
            await self._call("POST", self._campaigns, api_key, json=body)
        )

    async def campaigns(self, api_key: str) -> list[Campaign]:
        found = await self._get(self._campaigns, api_key)
        return [Campaign.model_validate(c) for c in found["items"]]

    async def end_campaign(self, api_key: str, campaign_id: str, *, keep_posts: bool) -> Campaign:
        url = f"{self._campaigns}/{campaign_id}/end"
        params = {"keep_posts": "true" if keep_posts else "false"}
        return Campaign.model_validate(await self._call("POST", url, api_key, params=params))

    async def summary(self, api_key: str, query: dict[str, str]) -> Summary:
        url = f"{self._scheduler}/v1/analytics/summary"
        return Summary.model_validate(await self._get(url, api_key, params=query))
