"""Revoking an API key takes effect on every service that accepts it within a second (issue 19,
finding 1; ADR 0014): auth-service's own API, the scheduler's API (which reuses introspection
answers briefly) and the scheduler's `post.submitted` ingestion (events signed with the key,
verified through the same briefly reused look-up).

Every service is a process on real Kafka and FerretDB. Each service is kept busy with the key
right up to the revocation, so any reused answer is as fresh as it can be; then it is asked again
and again until it refuses. The figures are printed; the bound asserted is the requirement's
(1 s), the design's worst case is half of it (`auth.key_cache_s` = 0.5 s)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.conftest import Connected

from herald.cloudevents import encode
from herald.events import PostRejected, PostSubmitted
from herald.producerauth import HEADER, sign
from herald.testkit import Collector, producer
from herald.topics import TopicNames
from herald_localstack.secrets import StackSecrets

pytestmark = pytest.mark.e2e

BOUND_S = 1.0  # the requirement: revocation takes effect everywhere within 1 s
GIVE_UP_S = 45.0  # long enough to measure a 30 s cache (as before ADR 0014) instead of timing out
EVENTS_AFTER_S = 2.0  # signed submissions keep coming this long after the revocation
EVENT_EVERY_S = 0.05


@dataclass
class Refusal:
    service: str
    after_s: float | None = None  # from the revocation's answer to the first refused request
    requests: int = 0
    refused_later: int = 0  # of the requests after the first refusal, how many were refused
    later: int = 0


@dataclass
class Clock:
    """When the revocation answered, on both clocks; set once, then `revoked` is set."""

    revoking: threading.Event = field(default_factory=threading.Event)
    revoked: threading.Event = field(default_factory=threading.Event)
    monotonic: float = 0.0
    wall: float = 0.0


def _admin(connected: Connected) -> dict[str, str]:
    token = StackSecrets.load_or_create(connected.system.cfg.run_dir).admin_token
    return {"Authorization": f"Bearer {token}"}


def _issue_key(connected: Connected) -> tuple[str, str, str]:
    """(business id, key id, key) of a new key of the session's business."""
    auth = connected.system.url("auth-service")
    listed = httpx.get(f"{auth}/v1/admin/businesses", headers=_admin(connected), timeout=30)
    session_key_id = connected.api_key.split("_")[1]
    business = next(
        b["business_id"]
        for b in listed.json()["businesses"]
        if any(k["key_id"] == session_key_id for k in b["api_keys"])
    )
    response = httpx.post(
        f"{auth}/v1/admin/businesses/{business}/api-keys",
        json={"name": "revocation-test"},
        headers=_admin(connected),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    issued = response.json()
    return business, issued["key_id"], issued["key"]


def _revoke(connected: Connected, key_id: str) -> None:
    response = httpx.post(
        f"{connected.system.url('auth-service')}/v1/admin/api-keys/{key_id}/revoke",
        headers=_admin(connected),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["revoked_at"]


def _until_refused(refusal: Refusal, call: Callable[[], int], clock: Clock) -> None:
    """Call every 10 ms, through the revocation, until a 401."""
    while True:
        status = call()
        seen = time.monotonic()
        refusal.requests += clock.revoked.is_set()
        if status == 401:
            assert clock.revoking.is_set(), f"{refusal.service} refused the key before revoking"
            clock.revoked.wait()
            refusal.after_s = max(0.0, seen - clock.monotonic)  # 0: before the revocation answered
            break
        assert status == 200, f"{refusal.service} answered {status}"
        if clock.revoked.is_set() and seen - clock.monotonic > GIVE_UP_S:
            return
        time.sleep(0.01)
    for _ in range(20):  # and it stays refused
        refusal.later += 1
        refusal.refused_later += call() == 401
        time.sleep(0.01)


@dataclass
class Submissions:
    """Signed `post.submitted` events produced around the revocation, by idempotency key."""

    business: str
    key: str
    integration: str
    due: datetime
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    produced: dict[str, float] = field(default_factory=dict)  # wall time of the broker's ack

    def data(self, n: int) -> dict[str, Any]:
        return {
            "business_id": self.business,
            "idempotency_key": f"revocation-{self.run}-{n}",
            "content": {"text": f"revocation run {self.run}, event {n}"},
            "targets": [{"integration_id": self.integration, "platform": "facebook"}],
            "schedule": {"publish_at": self.due.isoformat()},
        }

    async def produce(
        self, bootstrap: str, topic: str, clock: Clock, warm: threading.Event
    ) -> None:
        """One every 50 ms: before the revocation (the first ones accepted, so the scheduler's
        look-up of the key is warm) until `EVENTS_AFTER_S` after it."""
        async with producer(bootstrap) as out:
            n = 0
            while not clock.revoked.is_set() or time.monotonic() - clock.monotonic < EVENTS_AFTER_S:
                value, headers = encode(PostSubmitted.model_validate(self.data(n)), source="e2e")
                headers[HEADER] = sign(self.key, value)
                pairs = [(k, v.encode()) for k, v in headers.items()]
                await out.send_and_wait(topic, value, key=self.business.encode(), headers=pairs)
                self.produced[f"revocation-{self.run}-{n}"] = time.time()
                n += 1
                if n == 20:
                    warm.set()
                await asyncio.sleep(EVENT_EVERY_S)


async def _outcomes(
    connected: Connected, submissions: Submissions, topic: str
) -> tuple[dict[str, float], dict[str, float]]:
    """(accepted: key → post created_at, refused: key → rejected_at), wall times, once every
    submission has become one or the other."""
    scheduler = connected.system.url("scheduler")
    bearer = {"Authorization": f"Bearer {connected.api_key}"}  # the session's key, still valid
    window = {
        "due_from": submissions.due.isoformat(),
        "due_to": (submissions.due + timedelta(seconds=1)).isoformat(),
        "limit": "100",
    }
    cfg = connected.system.cfg
    accepted: dict[str, float] = {}
    refused: dict[str, float] = {}
    deadline = time.monotonic() + 90
    async with (
        Collector(cfg.kafka_bootstrap, [topic]) as results,
        httpx.AsyncClient(base_url=scheduler, headers=bearer, timeout=30) as http,
    ):
        while time.monotonic() < deadline:
            page = (await http.get("/v1/posts", params=window)).json()
            accepted = {
                p["idempotency_key"]: datetime.fromisoformat(p["created_at"]).timestamp()
                for p in page["items"]
            }
            refused = {
                r.idempotency_key: r.rejected_at.timestamp()
                for r in results.events(PostRejected)
                if r.idempotency_key in submissions.produced
            }
            if len(accepted) + len(refused) >= len(submissions.produced):
                break
            await asyncio.sleep(0.5)
    return accepted, refused


@pytest.mark.timeout(300)
def test_a_revoked_key_is_refused_by_every_service_within_a_second(connected: Connected) -> None:
    business, key_id, key = _issue_key(connected)
    bearer = {"Authorization": f"Bearer {key}"}
    auth = httpx.Client(base_url=connected.system.url("auth-service"), headers=bearer, timeout=10)
    scheduler = httpx.Client(base_url=connected.system.url("scheduler"), headers=bearer, timeout=10)
    calls: dict[str, Callable[[], int]] = {
        "auth-service API": lambda: auth.get("/v1/integrations").status_code,
        "scheduler API": lambda: scheduler.get("/v1/posts", params={"limit": 1}).status_code,
    }
    cfg = connected.system.cfg
    names = TopicNames(prefix=cfg.topic_prefix)
    due = (datetime.now(UTC) + timedelta(days=300)).replace(microsecond=0)
    submissions = Submissions(business, key, connected.integrations["facebook"], due)
    clock, warm = Clock(), threading.Event()
    refusals = {name: Refusal(name) for name in calls}
    threads = [
        threading.Thread(target=_until_refused, args=(refusals[name], call, clock))
        for name, call in calls.items()
    ]
    threads.append(
        threading.Thread(
            target=asyncio.run,
            args=(submissions.produce(cfg.kafka_bootstrap, names.post_submitted, clock, warm),),
        )
    )
    for thread in threads:
        thread.start()
    assert warm.wait(60), "the first signed submissions were not produced"
    clock.revoking.set()
    _revoke(connected, key_id)
    clock.monotonic, clock.wall = time.monotonic(), time.time()
    clock.revoked.set()
    for thread in threads:
        thread.join(GIVE_UP_S + 30)
    auth.close()
    scheduler.close()
    accepted, refused = asyncio.run(_outcomes(connected, submissions, names.post_results))

    for refusal in refusals.values():
        shown = "never" if refusal.after_s is None else f"{refusal.after_s * 1000:.0f} ms"
        print(  # noqa: T201 - the figure issue 19 asks this test to show
            f"revocation: {refusal.service}: first refused {shown} after the revocation "
            f"({refusal.requests} requests); then {refusal.refused_later}/{refusal.later} refused"
        )
    last_accepted = max(accepted.values()) - clock.wall
    first_refused = min(refused.values(), default=clock.wall + GIVE_UP_S) - clock.wall
    produced_after = {k: t - clock.wall for k, t in submissions.produced.items()}
    print(  # noqa: T201 - the figure issue 19 asks this test to show
        f"revocation: scheduler post.submitted: first refused {first_refused * 1000:.0f} ms after "
        f"the revocation, last accepted {last_accepted * 1000:.0f} ms after it; "
        f"{len(submissions.produced)} signed events, {len(accepted)} accepted, {len(refused)} "
        f"refused, {sum(t > 0 for t in produced_after.values())} produced after the revocation"
    )
    for refusal in refusals.values():
        assert refusal.after_s is not None, f"{refusal.service} never refused the revoked key"
        assert refusal.after_s <= BOUND_S, refusal
        assert refusal.refused_later == refusal.later, refusal
    assert len(accepted) + len(refused) == len(submissions.produced)
    assert accepted, "no signed submission was accepted before the revocation"
    assert refused, "no signed submission was refused after the revocation"
    assert last_accepted <= BOUND_S  # no post from the key more than 1 s after its revocation
    assert first_refused <= BOUND_S
    late = [k for k, t in produced_after.items() if t > BOUND_S]
    assert late, "no submission was produced long after the revocation"
    assert not set(late) & set(accepted)
