"""publisher-instagram's connected-test environment: its settings pointed at the sandbox, the demo
Page's tokens (Instagram with Facebook login publishes with them), and requests the sandbox's
ledger can find."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from herald.content import InstagramKind, InstagramOptions, PostContent
from herald.events import PostRequested
from herald.insights import InsightsSettings
from herald.topics import Platform
from platform_sandbox.testing.tokens import Grant, instagram_grant
from publisher_instagram.app import create_app
from publisher_instagram.settings import Settings
from publisher_testenv.env import PublisherEnv, graph_settings
from publisher_testenv.facebook import Env as FacebookEnv


class Env(PublisherEnv):
    PLATFORM = Platform.INSTAGRAM

    @classmethod
    def sandbox_settings(cls, port: int) -> dict[str, Any]:
        return FacebookEnv.sandbox_settings(port)  # Graph's sandbox, the same fast timings

    def grant(self) -> Grant:
        return instagram_grant(self.sandbox.demo)

    def settings(self, **overrides: Any) -> Settings:
        values = self.common_settings(lease_s=5.0) | {
            "graph": graph_settings(self.sandbox.url),
            "insights": InsightsSettings(enabled=False),
            "container_poll_s": 1.0,
        }
        return Settings.model_validate(values | overrides)

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings(**overrides), tokens=self.tokens, names=self.names)


def instagram_post(
    target_id: str, kind: InstagramKind, *media: str, **options: Any
) -> PostRequested:
    """A request whose caption carries the sandbox ledger's marker for `target_id`; `media` are
    URLs, videos by their `.mp4` ending."""
    now = datetime.now(UTC)
    items = [{"kind": "video" if url.endswith(".mp4") else "image", "url": url} for url in media]
    return PostRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id="i1",
        platform=Platform.INSTAGRAM,
        content=PostContent.model_validate(
            {"text": f"Rye #bread herald-marker:{target_id}", "media": items}
        ),
        options=InstagramOptions(kind=kind, **options),
        due_at=now,
        requested_at=now,
    )
