"""publisher-facebook's connected-test environment: its settings pointed at the sandbox, tokens
of the demo Page, and requests the sandbox's ledger can find."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from herald.content import FacebookOptions, PostContent
from herald.events import PostRequested
from herald.insights import InsightsSettings
from herald.topics import Platform
from platform_sandbox.testing.tokens import Grant, facebook_grant
from publisher_facebook.app import create_app
from publisher_facebook.settings import Settings
from publisher_testenv.env import PublisherEnv, graph_settings


class Env(PublisherEnv):
    PLATFORM = Platform.FACEBOOK

    @classmethod
    def sandbox_settings(cls, port: int) -> dict[str, Any]:
        return {
            "webhooks": {"auto_deliver": False},
            "facebook": {"video_processing_s": 1.0},
            "instagram": {"video_processing_s": 1.0},
        }

    def grant(self) -> Grant:
        return facebook_grant(self.sandbox.demo)

    def settings(self, **overrides: Any) -> Settings:
        values = self.common_settings(lease_s=5.0) | {
            "graph": graph_settings(self.sandbox.url),
            "insights": InsightsSettings(enabled=False),
            "video_poll_s": 1.0,
        }
        return Settings.model_validate(values | overrides)

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings(**overrides), tokens=self.tokens, names=self.names)


def facebook_post(target_id: str, **content: Any) -> PostRequested:
    """A request whose text carries the sandbox ledger's marker for `target_id`."""
    now = datetime.now(UTC)
    text = content.pop("text", "Fresh from the oven")
    return PostRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id="i1",
        platform=Platform.FACEBOOK,
        content=PostContent.model_validate(
            {"text": f"{text} herald-marker:{target_id}", **content}
        ),
        options=FacebookOptions(video_title="Tour"),
        due_at=now,
        requested_at=now,
    )
