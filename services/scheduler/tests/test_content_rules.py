"""The content rules submissions are checked against: TikTok's own by default, loosened by
settings only where a test or demo platform needs it (the sandbox serves media over http)."""

from __future__ import annotations

import pytest

from herald.events import PostSubmitted
from herald.rules import check_submission
from scheduler.handlers.base import Deps
from scheduler.settings import Settings

pytestmark = pytest.mark.unit


def _photo_post(url: str) -> PostSubmitted:
    return PostSubmitted.model_validate(
        {
            "business_id": "b1",
            "idempotency_key": "k1",
            "content": {
                "text": "Three loaves",
                "media": [{"kind": "image", "url": url, "mime_type": "image/jpeg"}],
            },
            "targets": [
                {
                    "integration_id": "tt-1",
                    "platform": "tiktok",
                    "options": {"platform": "tiktok", "privacy_level": "PUBLIC_TO_EVERYONE"},
                }
            ],
        }
    )


def test_tiktok_photos_over_http_are_refused_by_default() -> None:
    limits = Settings().rules.limits()
    found = check_submission(_photo_post("http://127.0.0.1:8120/p.jpg"), limits=limits)
    # TikTok's own rule (it pulls photos over https only), so under its target (ADR 0018).
    assert [(v.path, v.code) for v in found] == [("targets[0].content.media[0].url", "invalid_url")]
    assert Deps.__dataclass_fields__["limits"].default == limits  # what submissions meet


def test_a_setting_lets_tiktok_photos_come_from_an_http_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_SCHEDULER_RULES__TIKTOK_PHOTO_URL_SCHEMES", '["https", "http"]')
    limits = Settings().rules.limits()
    assert check_submission(_photo_post("http://127.0.0.1:8120/p.jpg"), limits=limits) == []
    assert check_submission(_photo_post("https://cdn.example.com/p.jpg"), limits=limits) == []
