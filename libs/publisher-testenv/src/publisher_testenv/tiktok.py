"""publisher-tiktok's connected-test environment: its settings pointed at the sandbox, which
sends TikTok's webhooks to the publisher's port (a test serves it there, in its own event loop:
`herald.testkit.servers.serving_in_loop`), a creator's tokens per integration, and requests the
sandbox's ledger can find."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from herald.content import PostContent, TikTokOptions
from herald.events import PostRequested
from herald.insights import InsightsSettings
from herald.settings import HttpServerSettings
from herald.topics import Platform
from platform_sandbox.testing.tokens import Grant, tiktok_grant
from publisher_testenv.env import PublisherEnv
from publisher_tiktok.app import create_app
from publisher_tiktok.settings import Settings

SECRET = "sandbox-tiktok-client-secret"  # noqa: S105 - the sandbox's default, not a secret


class Env(PublisherEnv):
    """Integrations post as the demo creator unless `tokens.grants` names another
    (`tiktok_grant(await sandbox.creator(...))`)."""

    PLATFORM = Platform.TIKTOK

    @classmethod
    def sandbox_settings(cls, port: int) -> dict[str, Any]:
        hook = f"http://127.0.0.1:{port}/webhooks/tiktok"
        return {
            "webhooks": {"tiktok_url": hook, "poll_interval_s": 0.1},
            "tiktok": {"processing_s": 0.5, "moderation_s": 1.0},
        }

    def grant(self) -> Grant:
        return tiktok_grant(self.sandbox.demo.tiktok_open_id)

    async def prepare(self) -> None:
        await self.sandbox.verify_prefix()

    def settings(self, **overrides: Any) -> Settings:
        base = self.sandbox.url
        values = self.common_settings(lease_s=30.0) | {
            "http": HttpServerSettings(port=self.port),
            "tiktok": {
                "base_url": f"{base}/open.tiktokapis.com",
                "client_secret": SECRET,
                "verified_url_prefixes": [self.sandbox.verified_prefix],
                "photo_url_schemes": ["https", "http"],
                "status_poll_s": 1.0,
                "post_id_poll_s": 1.0,
            },
            "fetcher": {"allowed_origins": [f"{base}/_sandbox/media/"]},
            "insights": InsightsSettings(enabled=False),
        }
        return Settings.model_validate(values | overrides)

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings(**overrides), tokens=self.tokens, names=self.names)


def tiktok_post(
    target_id: str, *media: str, integration_id: str = "i1", **options: Any
) -> PostRequested:
    """A request whose caption carries the sandbox ledger's marker for `target_id`; `media` are
    URLs, videos by their `.mp4` in the path."""
    now = datetime.now(UTC)
    items = [{"kind": "video" if ".mp4" in url else "image", "url": url} for url in media]
    options.setdefault("privacy_level", "PUBLIC_TO_EVERYONE")
    return PostRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id=integration_id,
        platform=Platform.TIKTOK,
        content=PostContent.model_validate(
            {"text": f"Rye #bread herald-marker:{target_id}", "media": items}
        ),
        options=TikTokOptions.model_validate(options),
        due_at=now,
        requested_at=now,
    )
