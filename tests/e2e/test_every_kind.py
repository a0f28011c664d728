"""Every post kind on Facebook and Instagram through the whole system (every service a process,
real Kafka and FerretDB, accounts connected through OAuth on the sandbox): all published, the
sandbox's ledger shows exactly one visible publish per target, and the reel's target shows its
container processing while it is dispatched (ADR 0018)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from tests.conftest import Connected

pytestmark = pytest.mark.e2e


def _media(sandbox: str, name: str, kind: str) -> dict[str, str]:
    if kind == "video":
        url = f"{sandbox}/_sandbox/media/{name}.mp4?bytes=400000"
        return {"kind": "video", "url": url, "mime_type": "video/mp4"}
    url = f"{sandbox}/_sandbox/media/{name}.jpg?bytes=30000&width=1080&height=1080"
    return {"kind": "image", "url": url, "mime_type": "image/jpeg"}


def _kinds(
    sandbox: str, run: str
) -> dict[str, tuple[str, dict[str, object], dict[str, object] | None]]:
    """name -> (platform, content, options)."""

    def image(name: str) -> dict[str, str]:
        return _media(sandbox, f"{run}-{name}", "image")

    def video(name: str) -> dict[str, str]:
        return _media(sandbox, f"{run}-{name}", "video")

    return {
        "fb-text": ("facebook", {"text": "Open until 8pm today"}, None),
        "fb-link": ("facebook", {"text": "Our new menu", "link": "https://example.com/menu"}, None),
        "fb-photo": ("facebook", {"text": "Croissants", "media": [image("p1")]}, None),
        "fb-photos": (
            "facebook",
            {"text": "Three loaves", "media": [image("p2"), image("p3"), image("p4")]},
            None,
        ),
        "fb-video": ("facebook", {"text": "How we bake", "media": [video("v1")]}, None),
        "ig-image": (
            "instagram",
            {"text": "Fresh today", "media": [image("i1")]},
            {"kind": "feed"},
        ),
        "ig-carousel": (
            "instagram",
            {"text": "Our week", "media": [image("c1"), image("c2"), video("c3")]},
            {"kind": "carousel"},
        ),
        "ig-reel": (
            "instagram",
            {"text": "Shaping dough", "media": [video("r1")]},
            {"kind": "reel", "share_to_feed": True},
        ),
        "ig-story": ("instagram", {"media": [image("s1")]}, {"kind": "story"}),
    }


@pytest.mark.timeout(600)
def test_every_kind_is_published_once(connected: Connected) -> None:
    run = uuid.uuid4().hex[:8]
    sandbox = connected.system.url("platform-sandbox")
    posts: dict[str, str] = {}
    for name, (platform, content, options) in _kinds(sandbox, run).items():
        marker = f"{run}{name.replace('-', '')}"
        text = f"{content.get('text', '')} herald-marker:{marker}".strip()
        target: dict[str, object] = {
            "integration_id": connected.integrations[platform],
            "platform": platform,
        }
        if options is not None:
            target["options"] = {"platform": platform, **options}
        body: dict[str, object] = {"content": {**content, "text": text}, "targets": [target]}
        posts[marker] = connected.post(body, idempotency_key=f"kinds-{marker}")

    deadline = time.monotonic() + 480
    statuses: dict[str, str] = {}
    reel = next(m for m in posts if m.endswith("igreel"))
    # (state, stage) of the reel's target at each look. The sandbox processes a reel 15 s on its
    # clock and the publisher reads the container every 20 s (a delay tier), so `processing` is
    # shown for 20 s or more: several looks, with no sleep added for it.
    reel_seen: list[tuple[str, str | None]] = []
    while time.monotonic() < deadline:
        shown = {m: connected.status(p) for m, p in posts.items()}
        statuses = {m: str(post["status"]) for m, post in shown.items()}
        reel_targets: list[dict[str, Any]] = shown[reel]["targets"]  # type: ignore[assignment]  # JSON
        stage = reel_targets[0].get("stage") or {}
        reel_seen.append((str(reel_targets[0]["state"]), stage.get("stage")))
        if all(s in ("published", "failed", "partially_published") for s in statuses.values()):
            break
        time.sleep(2)

    assert statuses == dict.fromkeys(posts, "published")
    # While Instagram processed the reel's container, its target said so (ADR 0018).
    assert ("dispatched", "processing") in reel_seen, reel_seen
    assert reel_seen.index(("dispatched", "processing")) < reel_seen.index(("published", None))
    entries = connected.sandbox("/_sandbox/ledger")["entries"]
    visible = [e["marker"] for e in entries if e.get("marker") in posts]
    # A story carries no caption, so nothing marks it: it is found by its media id instead.
    story = next(m for m in posts if m.endswith("igstory"))
    targets: list[dict[str, Any]] = connected.status(posts[story])["targets"]  # type: ignore[assignment]  # JSON
    story_id = targets[0]["platform_post_id"]
    story_entries = [e for e in entries if e.get("object_id") == story_id]
    assert len(story_entries) == 1
    assert sorted(visible) == sorted(m for m in posts if m != story)  # exactly one publish each
