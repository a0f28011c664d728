"""Compose's third way, for `compose_routes`: the checks of a post that is to be a recurring
campaign (Compose's own, then the recurrence's), the preview of its next occurrences in the
business's zone, and its creation through the scheduler's `POST /v1/campaigns`, once per form
(a second click on the same form leads to the campaign the first one made)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from console import campaigns, compose
from console.campaign_routes import scheduler_of
from console.client import Integration
from console.recurrence import next_moments
from herald.events import Violation

if TYPE_CHECKING:
    from console.app import Console
    from console.sessions import Session

MADE_REMEMBERED = 1000  # campaigns made, by form token


class CampaignMaker:
    """Every time here is in the zone of the session at hand (`Console.zone`: its business's,
    else the console's fallback)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._made: OrderedDict[str, str] = OrderedDict()  # form token -> campaign id

    def today(self, session: Session) -> str:
        zone = ZoneInfo(self._console.zone(session))
        return self._console.now().astimezone(zone).date().isoformat()

    def checks(
        self,
        draft: compose.Draft,
        recurring: campaigns.Recurring,
        accounts: list[Integration],
        session: Session,
    ) -> tuple[list[Violation], campaigns.Checked | None]:
        """Compose's checks, and the recurrence's when the post is to be a campaign."""
        now = self._console.now()
        zone = self._console.zone(session)
        problems = compose.check(draft, accounts, zone, now)
        if draft.when != "campaign":
            return problems, None
        rule = campaigns.check(recurring, ZoneInfo(zone), now)
        return problems + rule.problems, rule

    def occurrences(self, rule: campaigns.Checked | None, session: Session) -> list[str]:
        """The next occurrences as the business reads them ("Tue 2026-12-08 09:00 CET")."""
        if rule is None or rule.rule is None or rule.start is None:
            return []
        now: datetime = self._console.now()
        tz = ZoneInfo(self._console.zone(session))
        found = next_moments(rule.rule, rule.start, tz, now, campaigns.PREVIEWED)
        return [f"{m.astimezone(tz):%a %Y-%m-%d %H:%M %Z}" for m in found]

    async def make(
        self,
        session: Session,
        accounts: list[Integration],
        draft: compose.Draft,
        recurring: campaigns.Recurring,
        rule: campaigns.Checked,
    ) -> str:
        """The campaign's id; raises the scheduler's `ApiError`."""
        if draft.token in self._made:
            return self._made[draft.token]
        zone = self._console.zone(session)
        post = compose.to_body(draft, accounts, zone)
        body = campaigns.body(post, recurring, rule, zone)
        campaign = await scheduler_of(self._console).create_campaign(session.api_key, body)
        self._made[draft.token] = campaign.campaign_id
        while len(self._made) > MADE_REMEMBERED:
            self._made.popitem(last=False)
        return campaign.campaign_id
