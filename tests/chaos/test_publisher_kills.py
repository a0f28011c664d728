"""SIGKILL a publisher again and again while posts flow through the whole system; restart it each
time. Nothing may be lost; the sandbox's ledger counts visible publishes per post.

Instagram's flow is two-phase (container, then publish, with the container's status readable), so
every kill resumes from the checkpointed container: no duplicates. Facebook's feed call is
one-shot: a kill after the call and before the ledger write leaves only the Page's recent posts
to reconcile against, so a duplicate there is possible in principle; the test reports any it finds
with the kill it followed, and requires none.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter

import pytest
from tests.conftest import Connected

pytestmark = pytest.mark.e2e

POSTS = int(os.environ.get("HERALD_CHAOS_POSTS", "300"))
KILLS = int(os.environ.get("HERALD_CHAOS_KILLS", "10"))


def _body(platform: str, integration: str, text: str, sandbox: str, i: int) -> dict[str, object]:
    content: dict[str, object] = {"text": text}
    if platform == "instagram":
        image = f"{sandbox}/_sandbox/media/chaos-{i}.jpg?bytes=20000&width=1080&height=1080"
        content["media"] = [{"kind": "image", "url": image, "mime_type": "image/jpeg"}]
    return {"content": content, "targets": [{"integration_id": integration, "platform": platform}]}


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("platform", ["instagram", "facebook"])
def test_publisher_killed_repeatedly_loses_nothing_and_publishes_once(
    connected: Connected, platform: str
) -> None:
    rng = random.Random(7)
    run = uuid.uuid4().hex[:8]
    sandbox = connected.system.url("platform-sandbox")
    markers = {f"{run}x{i}": i for i in range(POSTS)}
    post_ids: dict[str, str] = {}
    kills: list[float] = []
    per_kill = max(POSTS // (KILLS + 1), 1)
    for number, marker in enumerate(markers):
        text = f"Chaos {platform} {number} herald-marker:{marker}"
        body = _body(platform, connected.integrations[platform], text, sandbox, number)
        post_ids[marker] = connected.post(body, idempotency_key=f"chaos-{marker}")
        if number % per_kill == per_kill - 1 and len(kills) < KILLS:
            time.sleep(rng.uniform(0.0, 1.5))  # somewhere inside the flow of what was just sent
            kills.append(time.time())
            connected.system.kill(f"publisher-{platform}")
            connected.start(f"publisher-{platform}")  # with this session's settings

    deadline = time.monotonic() + 240
    pending = dict(post_ids)
    while pending and time.monotonic() < deadline:
        for marker, post_id in list(pending.items()):
            if connected.status(post_id)["status"] in (
                "published",
                "failed",
                "partially_published",
            ):
                del pending[marker]
        time.sleep(1.0)

    statuses = Counter(str(connected.status(p)["status"]) for p in post_ids.values())
    ledger = connected.sandbox("/_sandbox/ledger", platform=platform)
    entries = [e for e in ledger["entries"] if e.get("marker") in markers]
    visible = Counter(str(e["marker"]) for e in entries)
    duplicates = {m: n for m, n in visible.items() if n > 1}
    lost = [m for m in markers if visible[m] == 0]
    print(
        f"\n[chaos {platform}] {POSTS} posts, {len(kills)} kills: statuses {dict(statuses)}, "
        f"visible publishes {sum(visible.values())}, lost {len(lost)}, duplicates {len(duplicates)}"
    )
    for marker, count in duplicates.items():
        first = min(float(e["at_unix"]) for e in entries if e["marker"] == marker)
        after = [round(first - k, 2) for k in kills if k <= first + 30]
        window = after[-1] if after else "?"
        print(f"  duplicate {marker} x{count}: first publish {window} s after the kill before it")

    assert len(kills) == KILLS
    assert not pending, f"{len(pending)} posts never finished"
    assert lost == []
    assert duplicates == {}
    assert statuses == Counter({"published": POSTS})
