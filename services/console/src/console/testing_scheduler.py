"""A fake of the scheduler's campaign routes and analytics summary as the console sees them
(`console.scheduler_client.SchedulerApi`), for tests of the pages without the services. It
keeps the campaigns it was asked to make and records every call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from console.client import ApiError
from console.overview import Summary
from console.scheduler_client import Campaign
from console.testing import KEY


@dataclass
class FakeScheduler:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    made: dict[str, Campaign] = field(default_factory=dict)  # by id, in creation order
    bodies: list[dict[str, Any]] = field(default_factory=list)  # each POST /v1/campaigns
    ends: list[tuple[str, bool]] = field(default_factory=list)  # (campaign id, keep_posts)
    summaries: list[dict[str, str]] = field(default_factory=list)  # each summary's query
    answer: Summary | None = None  # what the summary answers (an empty period by default)
    refusal: ApiError | None = None  # what the next write is answered with
    keys: set[str] = field(default_factory=lambda: {KEY})

    async def create_campaign(self, api_key: str, body: dict[str, Any]) -> Campaign:
        self._check(api_key)
        self._refuse()
        self.bodies.append(body)
        campaign = Campaign.model_validate(
            body
            | {
                "campaign_id": f"c_{len(self.made) + 1}",
                "status": "active",
                "created_at": self.now,
            }
        )
        self.made[campaign.campaign_id] = campaign
        return campaign

    async def campaigns(self, api_key: str) -> list[Campaign]:
        self._check(api_key)
        return list(self.made.values())

    async def end_campaign(self, api_key: str, campaign_id: str, *, keep_posts: bool) -> Campaign:
        self._check(api_key)
        self._refuse()
        self.ends.append((campaign_id, keep_posts))
        if campaign_id not in self.made:
            raise ApiError(404, f"no campaign {campaign_id} in this business")
        ended = self.made[campaign_id].model_copy(
            update={"status": "ended", "cancelled_posts": 0 if keep_posts else 3}
        )
        self.made[campaign_id] = ended
        return ended

    async def summary(self, api_key: str, query: dict[str, str]) -> Summary:
        self._check(api_key)
        self.summaries.append(query)
        if self.answer is not None:
            return self.answer
        start = datetime.fromisoformat(query["from"])
        return Summary.model_validate(
            {"from": start, "to": start + timedelta(days=1), "targets": 0}
        )

    def _refuse(self) -> None:
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal

    def _check(self, api_key: str) -> None:
        if api_key not in self.keys:
            raise ApiError(401, "invalid API key")
