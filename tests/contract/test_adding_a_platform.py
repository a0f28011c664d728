"""docs/adding-a-platform.md stays true: its registration table names every file that lists the
platforms, its counts add up, and a toy publisher built as its step 4 says publishes through the
shared runtime on real Kafka and FerretDB, against a toy platform route on loopback."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pymongo.asynchronous.database import AsyncDatabase

from herald.errors import NeedsReauth, Permanent, Transient
from herald.events import PostPublished, PostRequested, PostRetryScheduled, Violation
from herald.http import HttpClientSettings
from herald.mongo import Document
from herald.runtime.app import build_publisher, runtime_of
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published
from herald.runtime.settings import PublisherSettings, RetrySettings
from herald.settings import HttpServerSettings, KafkaSettings, MongoSettings
from herald.testing import StaticTokens
from herald.testkit import (
    Collector,
    isolated_topics,
    post_requested,
    producer,
    running,
    send_event,
)
from herald.testkit.servers import serving_in_thread
from herald.topics import Platform, TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "adding-a-platform.md"
PLATFORMS = [p.value for p in Platform]
SOURCE = re.compile(r"(\.(py|toml|ya?ml)|/Procfile|/Makefile|/Dockerfile)$")


def _tables() -> tuple[list[str], list[str]]:
    """The registration table's files, then the mentions-only table's files."""
    text = GUIDE.read_text()
    registrations, _, mentions = text.partition("Files that name all four platforms")
    row = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)
    return row.findall(registrations), row.findall(mentions)


def _listing_every_platform() -> set[str]:
    """Source files outside the publishers, tests, test support and docs that name every
    platform."""
    tracked = subprocess.run(
        ["git", "ls-files"],  # noqa: S607 - git from PATH, as in CI's fresh clone
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = set()
    for name in tracked:
        if not SOURCE.search("/" + name) or name.startswith(("services/publisher-", "docs/")):
            continue
        if "/tests/" in name or name.startswith(("tests/", "libs/publisher-testenv/")):
            continue  # tests and test support follow the services they test
        if "/testing/" in name or name.endswith("/testing.py"):
            continue
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_text(errors="replace").lower()
        if all(platform in text for platform in PLATFORMS):
            found.add(name)
    return found


@pytest.mark.unit
def test_every_registration_named_in_the_guide_is_one() -> None:
    registrations, mentions = _tables()
    assert len(registrations) == len(set(registrations))
    for name in registrations:  # TikTok, the latest platform, went through every step
        assert "tiktok" in (ROOT / name).read_text().lower(), f"{name} has no TikTok entry"
    for name in mentions:
        text = (ROOT / name).read_text().lower()
        missing = [p for p in PLATFORMS if p not in text]
        assert missing == [], f"{name} is in the guide but does not name {missing}"


@pytest.mark.unit
def test_no_file_that_lists_the_platforms_is_missing_from_the_guide() -> None:
    registrations, mentions = _tables()
    unnamed = _listing_every_platform() - set(registrations) - set(mentions)
    assert unnamed == set(), f"add these to docs/adding-a-platform.md's tables: {sorted(unnamed)}"


@pytest.mark.unit
def test_the_guide_states_its_own_count() -> None:
    registrations, _ = _tables()
    stated = re.search(r"(\d+) registrations in existing files", GUIDE.read_text())
    assert stated is not None
    assert int(stated.group(1)) == len(registrations)


# The toy platform: a board that takes text posts. Its route answers as real APIs do (201 with
# an id, 401 for a bad token, 422 for a refused body, 503 when it is down) and keeps one post
# per idempotency key, so a repeated call cannot post twice.


@dataclass
class Board:
    token: str = "toy-token"
    posts: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    down_once: set[str] = field(default_factory=set)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/boards/{board}/posts")
        async def create(
            board: str,
            request: Request,
            authorization: str = Header(default=""),
            idempotency_key: str = Header(default=""),
        ) -> JSONResponse:
            self.calls.append(idempotency_key)
            if authorization != f"Bearer {self.token}":
                return JSONResponse({"error": "invalid_token"}, status_code=401)
            if idempotency_key in self.down_once:
                self.down_once.discard(idempotency_key)
                return JSONResponse({"error": "unavailable"}, status_code=503)
            body: dict[str, Any] = await request.json()
            if not body.get("text"):
                return JSONResponse({"error": "text_required"}, status_code=422)
            post = self.posts.setdefault(
                idempotency_key, {"id": f"pb_{len(self.posts) + 1}", "board": board, **body}
            )
            return JSONResponse({"id": post["id"], "url": f"https://toy.example/{post['id']}"}, 201)

        return app


@dataclass
class ToyPublisher:
    """The `PlatformAdapter` of step 4: validate, publish, classify every failure."""

    http: httpx.AsyncClient
    base_url: str
    name: Platform = Platform.FACEBOOK  # stand-in member: see the guide's last section

    def validate(self, request: PostRequested) -> list[Violation]:
        if request.content.text:
            return []
        return [Violation(path="content.text", code="required", message="the board needs text")]

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        response = await self.http.post(
            f"{self.base_url}/v1/boards/{credentials.account_id}/posts",
            json={"text": request.content.text},
            headers={
                "Authorization": f"Bearer {credentials.access_token}",
                "Idempotency-Key": request.target_id,
            },
        )
        if response.status_code >= 500:
            raise Transient("the board is unavailable", http_status=response.status_code)
        if response.status_code == 401:
            raise NeedsReauth("the board refused the token", http_status=401)
        if response.status_code >= 400:
            error = str(response.json().get("error"))
            raise Permanent("the board refused the post", code=error, http_status=400)
        body = response.json()
        return Published(platform_post_id=body["id"], permalink=body["url"])


def create_toy_app(
    settings: PublisherSettings, *, base_url: str, tokens: StaticTokens, names: TopicNames
) -> FastAPI:
    """Step 4's `app.py`, for the toy platform."""
    runtime = build_publisher(Platform.FACEBOOK, settings, tokens=tokens, names=names)
    http = runtime.http_client(HttpClientSettings(read_timeout_s=5.0))
    return runtime.app(ToyPublisher(http, base_url))


@pytest.fixture
async def names(infra: InfraEndpoints) -> AsyncIterator[TopicNames]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers={"1s": 1, "3s": 3})
    plan = names.plan(partitions=1, platforms=[Platform.FACEBOOK])
    async with isolated_topics(infra.kafka_bootstrap, plan):
        yield names


@pytest.mark.connected
async def test_a_toy_platform_publishes_through_the_shared_runtime(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document], names: TopicNames
) -> None:
    board = Board(down_once={"toy-2"})
    settings = PublisherSettings(
        http=HttpServerSettings(port=1),
        database=mongo_db.name,
        kafka=KafkaSettings(bootstrap_servers=infra.kafka_bootstrap, graceful_timeout_s=1.0),
        mongo=MongoSettings(uri=infra.mongo_uri),
        retry=RetrySettings(max_attempts=3, backoff_s=[1.0, 1.0], jitter=0.0),
        lease_s=5.0,
        topic_prefix=names.prefix,
    )
    tokens = StaticTokens(token=board.token, account_id="board-1")
    requested = names.requested(Platform.FACEBOOK)
    with serving_in_thread(board.app()) as base_url:
        app = create_toy_app(settings, base_url=base_url, tokens=tokens, names=names)
        async with Collector(infra.kafka_bootstrap, [names.post_results]) as out, running(app):
            assert runtime_of(app).service == "publisher-facebook"
            async with producer(infra.kafka_bootstrap) as client:
                for target in ("toy-1", "toy-2"):
                    await send_event(client, requested, post_requested(target), key=target)
            await out.wait_for(lambda c: len(c.events(PostPublished)) == 2, timeout_s=60)

    published = {e.target_id: e for e in out.events(PostPublished)}
    assert {t: e.platform_post_id for t, e in published.items()} == {
        "toy-1": board.posts["toy-1"]["id"],
        "toy-2": board.posts["toy-2"]["id"],
    }
    assert published["toy-2"].attempt == 2  # the 503 went through the 1 s tier and back
    [retry] = out.events(PostRetryScheduled)
    assert (retry.target_id, retry.tier) == ("toy-2", "1s")
    assert sorted(board.calls) == ["toy-1", "toy-2", "toy-2"]
    assert [p["board"] for p in board.posts.values()] == ["board-1", "board-1"]
