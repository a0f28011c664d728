"""TikTok's account figures for the account insights job (herald.insights.accounts, ADR 0020):
the Display API's `user/info` counts (platform-apis.md §4.3; scope `user.info.stats`). TikTok
gives the current counts only, so a day's figures are the counts when the job read them, soon
after the day ended. A creator who did not grant `user.info.stats` answers
`scope_permission_missed`, told as that day's absence with TikTok's reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from herald.insights.accounts import Account
from herald.runtime.ports import Credentials
from publisher_tiktok.ports import Limiter, TikTokApi

STATS = ["follower_count", "following_count", "likes_count", "video_count"]


@dataclass(frozen=True)
class UserStats:
    api: TikTokApi
    limiter: Limiter

    async def read(self, credentials: Credentials, account: Account, day: date) -> dict[str, float]:
        self.limiter.take(account.integration_id, "display")
        user = await self.api.user_info(credentials.access_token, STATS)
        return {
            name: float(value)
            for name in STATS
            if isinstance(value := user.get(name), int | float) and not isinstance(value, bool)
        }
