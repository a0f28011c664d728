"""TikTok through the whole system (every service a process, real Kafka and FerretDB, creators
connected through OAuth on the sandbox): every kind of post published once, and the faults of
ADR 0005 survived end to end, injected through the sandbox's fault API.

Each test connects a creator of its own, so the sandbox's fault rules (matched by open_id) and
counters touch only that test's posts. A fault rule with `action: latency` and no delay changes
nothing but counts the calls it matches (`fired`), which is how a test counts inits and chunk
PUTs at the sandbox. Media at `127.0.0.1` is uploaded (FILE_UPLOAD); the same media spelled
`localhost` lies under the prefix verified for the app and is pulled (see tests/conftest.py).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.conftest import Connected

from herald_localstack import demo
from herald_localstack.secrets import StackSecrets

pytestmark = pytest.mark.e2e

MB = 1_000_000
TERMINAL = frozenset({"published", "failed", "partially_published", "cancelled"})


@dataclass
class Creator:
    """A sandbox TikTok creator connected to the test business through the real OAuth flow."""

    open_id: str
    integration_id: str


@dataclass
class TikTok:
    connected: Connected
    run: str

    @property
    def sandbox(self) -> str:
        return self.connected.system.url("platform-sandbox")

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.sandbox}/_sandbox{path}", json=body, timeout=30)
        assert response.status_code < 300, response.text
        return response.json()

    def creator(self, name: str) -> Creator:
        username = f"{name}.{self.run}"
        open_id = str(self.admin("POST", "/tiktok/users", {"username": username})["open_id"])
        auth, key = self.connected.system.url("auth-service"), self.connected.api_key
        with httpx.Client(timeout=30) as http:  # the creator's browser
            (integration_id,) = demo.connect_all(http, auth, key, "tiktok", sandbox_user=open_id)
        return Creator(open_id, integration_id)

    def uploaded(self, name: str, size: int) -> dict[str, str]:
        url = f"{self.sandbox}/_sandbox/media/{self.run}-{name}.mp4?bytes={size}"
        return {"kind": "video", "url": url, "mime_type": "video/mp4"}

    def pulled(self, name: str, size: int, ext: str = "mp4") -> dict[str, str]:
        base = self.sandbox.replace("127.0.0.1", "localhost")
        url = f"{base}/_sandbox/media/{self.run}-{name}.{ext}?bytes={size}"
        if ext == "mp4":
            return {"kind": "video", "url": url, "mime_type": "video/mp4"}
        return {"kind": "image", "url": url + "&width=1080&height=1350", "mime_type": "image/jpeg"}

    def post(
        self, creator: Creator, marker: str, media: list[dict[str, str]], **options: Any
    ) -> str:
        """A direct public post; the marker goes in the caption (a photo post's in its title,
        where the sandbox looks for it)."""
        body: dict[str, object] = {
            "content": {"text": f"Fresh rye #bread herald-marker:{marker}", "media": media},
            "targets": [
                {
                    "integration_id": creator.integration_id,
                    "platform": "tiktok",
                    "options": {
                        "platform": "tiktok",
                        "privacy_level": "PUBLIC_TO_EVERYONE",
                        **options,
                    },
                }
            ],
        }
        return self.connected.post(body, idempotency_key=f"tiktok-{marker}")

    def fault(self, creator: Creator, endpoint: str, **rule: Any) -> int:
        body = {"platform": "tiktok", "endpoint": endpoint, "account": creator.open_id, **rule}
        return int(self.admin("POST", "/faults", body)["id"])

    def counter(self, creator: Creator, endpoint: str) -> int:
        """A rule that changes nothing and counts the calls it sees."""
        return self.fault(creator, endpoint, action="latency", latency_ms=0)

    def fired(self, fault_id: int) -> int:
        faults = self.admin("GET", "/faults")["faults"]
        return int(next(f["fired"] for f in faults if f["id"] == fault_id))

    def ledger(self, marker: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.connected.sandbox(
            "/_sandbox/ledger", platform="tiktok", marker=marker
        )["entries"]
        return entries

    def wait(self, posts: dict[str, str], timeout_s: float) -> dict[str, str]:
        """marker -> the post's status once every post is final (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        statuses: dict[str, str] = {}
        while time.monotonic() < deadline:
            statuses = {m: str(self.connected.status(p)["status"]) for m, p in posts.items()}
            if set(statuses.values()) <= TERMINAL:
                break
            time.sleep(1.0)
        return statuses

    def tokens_issued(self, creator: Creator) -> int:
        """How many tokens the sandbox has ever issued to this creator: 2 when connected, 2 more
        per refresh (an access token and, rotated, a refresh token). The sandbox tells by revoking
        them all, so this ends the creator's connection: call it last."""
        return int(self.admin("POST", "/tokens/revoke", {"subject": creator.open_id})["revoked"])

    def target(self, post_id: str) -> dict[str, Any]:
        targets: list[dict[str, Any]] = self.connected.status(post_id)["targets"]  # type: ignore[assignment]  # JSON
        return targets[0]


@pytest.fixture
def tiktok(connected: Connected) -> TikTok:
    return TikTok(connected, uuid.uuid4().hex[:8])


@pytest.mark.timeout(420)
def test_every_kind_of_tiktok_post_is_published_once(tiktok: TikTok) -> None:
    creator = tiktok.creator("kinds")
    puts, video_inits = tiktok.counter(creator, "upload"), tiktok.counter(creator, "video/init")
    run = tiktok.run
    posts = {
        f"{run}chunked": tiktok.post(creator, f"{run}chunked", [tiktok.uploaded("big", 23 * MB)]),
        f"{run}whole": tiktok.post(creator, f"{run}whole", [tiktok.uploaded("small", 3 * MB)]),
        f"{run}pulled": tiktok.post(creator, f"{run}pulled", [tiktok.pulled("clip", 2 * MB)]),
        f"{run}photos": tiktok.post(
            creator,
            f"{run}photos",
            [tiktok.pulled(f"p{i}", 100_000, "jpg") for i in range(3)],
            title=f"Three loaves herald-marker:{run}photos",
        ),
    }

    statuses = tiktok.wait(posts, timeout_s=300)

    assert statuses == dict.fromkeys(posts, "published")
    entries = {m: tiktok.ledger(m) for m in posts}
    assert {m: len(e) for m, e in entries.items()} == dict.fromkeys(posts, 1)
    seen = {m[len(run) :]: (e[0]["kind"], e[0]["request"]["source"]) for m, e in entries.items()}
    assert seen == {
        "chunked": ("video_published", "FILE_UPLOAD"),
        "whole": ("video_published", "FILE_UPLOAD"),
        "pulled": ("video_published", "PULL_FROM_URL"),
        "photos": ("photo_published", "PULL_FROM_URL"),
    }
    assert tiktok.fired(video_inits) == 3
    assert tiktok.fired(puts) == 3  # the 23 MB video in two chunks, the 3 MB one whole


@pytest.mark.timeout(300)
def test_a_chunk_answering_5xx_is_sent_again_and_the_upload_completes(tiktok: TikTok) -> None:
    creator = tiktok.creator("fivexx")
    inits = tiktok.counter(creator, "video/init")
    # The first chunk goes through, the second answers 503 once, then every PUT is counted.
    tiktok.fault(creator, "upload", action="latency", latency_ms=0, count=1)
    tiktok.fault(creator, "upload", count=1, error={"status": 503, "code": "internal_error"})
    after = tiktok.counter(creator, "upload")
    marker = f"{tiktok.run}fivexx"
    post_id = tiktok.post(creator, marker, [tiktok.uploaded("twochunks", 20 * MB)])

    assert tiktok.wait({marker: post_id}, timeout_s=240) == {marker: "published"}
    assert len(tiktok.ledger(marker)) == 1
    assert tiktok.fired(after) == 1  # only the refused chunk was sent again
    assert tiktok.fired(inits) == 1  # within the same upload: no new publish
    assert tiktok.target(post_id)["attempts"] == 1  # and within the same attempt


@pytest.mark.timeout(300)
def test_an_expired_upload_url_gets_a_new_init(tiktok: TikTok) -> None:
    creator = tiktok.creator("expired")
    tiktok.fault(creator, "upload", count=1, error={"status": 403, "code": "upload_url_expired"})
    inits, puts = tiktok.counter(creator, "video/init"), tiktok.counter(creator, "upload")
    marker = f"{tiktok.run}expired"
    post_id = tiktok.post(creator, marker, [tiktok.uploaded("expiring", 1 * MB)])

    assert tiktok.wait({marker: post_id}, timeout_s=240) == {marker: "published"}
    (entry,) = tiktok.ledger(marker)
    assert entry["request"]["source"] == "FILE_UPLOAD"
    assert tiktok.fired(inits) == 2  # a new publish id for a new upload URL
    assert tiktok.fired(puts) == 1  # the video went once, to the new URL


@pytest.mark.timeout(300)
def test_the_daily_cap_defers_the_post_to_the_next_day(tiktok: TikTok) -> None:
    creator = tiktok.creator("capped")
    capped = tiktok.fault(
        creator, "video/init", error={"status": 403, "code": "spam_risk_too_many_posts"}
    )
    marker = f"{tiktok.run}capped"
    started = datetime.now(UTC)
    post_id = tiktok.post(creator, marker, [tiktok.uploaded("capped", 1 * MB)])

    deadline = time.monotonic() + 240
    target = tiktok.target(post_id)
    while target["state"] != "retrying" and time.monotonic() < deadline:
        time.sleep(1.0)
        target = tiktok.target(post_id)
    tiktok.admin("DELETE", f"/faults/{capped}")

    assert target["state"] == "retrying", target
    error = target["last_error"]
    assert error["code"] == "spam_risk_too_many_posts"
    assert "daily limit" in error["message"]
    assert "24 h" in error["message"]
    assert error["remediation"]
    next_attempt = datetime.fromisoformat(target["next_attempt_at"])
    assert next_attempt >= started + timedelta(hours=23, minutes=59)
    assert tiktok.connected.status(post_id)["status"] not in TERMINAL
    assert tiktok.ledger(marker) == []


@pytest.mark.timeout(300)
def test_an_invalid_token_is_refreshed_once_through_auth_service(tiktok: TikTok) -> None:
    creator = tiktok.creator("invalid")
    tiktok.fault(
        creator,
        "creator_info/query",
        count=1,
        error={"status": 401, "code": "access_token_invalid"},
    )
    marker = f"{tiktok.run}invalid"
    post_id = tiktok.post(creator, marker, [tiktok.uploaded("refreshed", 1 * MB)])

    assert tiktok.wait({marker: post_id}, timeout_s=240) == {marker: "published"}
    assert len(tiktok.ledger(marker)) == 1
    assert tiktok.target(post_id)["attempts"] == 1
    assert tiktok.tokens_issued(creator) == 4  # connected (2), refreshed once (2)


def _access_token(connected: Connected, integration_id: str) -> str:
    """The creator's current access token, asked of auth-service as publisher-tiktok asks."""
    keys = StackSecrets.load_or_create(connected.system.cfg.run_dir)
    auth = connected.system.url("auth-service")
    with httpx.Client(timeout=30) as http:
        introspect = http.post(
            f"{auth}/internal/v1/api-keys/introspect",
            json={"key": connected.api_key},
            headers={"Authorization": f"Bearer {keys.service_tokens['scheduler']}"},
        )
        assert introspect.status_code == 200, introspect.text
        token = http.get(
            f"{auth}/internal/v1/integrations/{integration_id}/token",
            params={"business_id": introspect.json()["business_id"]},
            headers={"Authorization": f"Bearer {keys.service_tokens['publisher-tiktok']}"},
        )
        assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


@pytest.mark.timeout(600)
def test_a_token_expiring_mid_run_is_refreshed_once_for_fifty_posts(tiktok: TikTok) -> None:
    creator = tiktok.creator("fifty")
    markers = [f"{tiktok.run}n{i}" for i in range(50)]
    posts: dict[str, str] = {}

    def send(batch: list[str]) -> None:
        for marker in batch:
            posts[marker] = tiktok.post(creator, marker, [tiktok.uploaded(marker, 100_000)])

    send(markers[:25])
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        final = [p for p in posts.values() if tiktok.connected.status(p)["status"] in TERMINAL]
        if len(final) >= 10:
            break
        time.sleep(0.5)
    # TikTok ends the token mid-run: every call with it now answers access_token_invalid.
    token = _access_token(tiktok.connected, creator.integration_id)
    tiktok.admin("POST", "/tokens/expire", {"token": token})
    send(markers[25:])

    statuses = tiktok.wait(posts, timeout_s=420)

    assert statuses == dict.fromkeys(posts, "published")
    counts = {m: len(tiktok.ledger(m)) for m in markers}
    assert counts == dict.fromkeys(markers, 1)
    assert tiktok.tokens_issued(creator) == 4  # connected (2), refreshed once (2)
