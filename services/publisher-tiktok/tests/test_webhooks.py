"""`POST /webhooks/tiktok` on the publisher app: signatures first, then publish outcomes kept
once per event and `authorization.removed` handed to auth-service untouched."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from publisher_tiktok.api.webhooks import PATH, router
from publisher_tiktok.signatures import sign
from publisher_tiktok.webhooks import WebhookReceiver

pytestmark = pytest.mark.unit
SECRET = "client-secret"


@dataclass
class FakeStore:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: set[str] = field(default_factory=set)

    async def record(self, publish_id: str, event: str, content: dict[str, Any]) -> bool:
        key = f"{publish_id}:{event}"
        fresh = key not in self.events
        self.events.setdefault(key, content)
        return fresh

    async def first_delivery(self, key: str) -> bool:
        fresh = key not in self.deliveries
        self.deliveries.add(key)
        return fresh

    async def forget_delivery(self, key: str) -> None:
        self.deliveries.discard(key)


@dataclass
class FakeForwarder:
    accept: bool = True
    forwarded: list[tuple[bytes, str]] = field(default_factory=list)

    async def forward(self, body: bytes, signature: str) -> bool:
        self.forwarded.append((body, signature))
        return self.accept


def delivery(event: str, content: dict[str, Any]) -> bytes:
    payload = {
        "client_key": "ck",
        "event": event,
        "create_time": int(time.time()),
        "user_openid": "open-1",
        "content": json.dumps(content),
    }
    return json.dumps(payload).encode()


async def post(app: FastAPI, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["TikTok-Signature"] = signature
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pub") as client:
        return await client.post(PATH, content=body, headers=headers)


def app_with(store: FakeStore, forwarder: FakeForwarder, failures: list[int]) -> FastAPI:
    receiver = WebhookReceiver(
        store=store,
        forwarder=forwarder,
        secrets=[SECRET, "old-secret"],
        tolerance_s=300,
        clock=time.time,
        on_bad_signature=lambda: failures.append(1),
    )
    app = FastAPI()
    app.include_router(router(receiver))
    return app


async def test_publish_events_are_kept_once_each() -> None:
    store, forwarder, failures = FakeStore(), FakeForwarder(), list[int]()
    app = app_with(store, forwarder, failures)
    body = delivery("post.publish.complete", {"publish_id": "v_pub_1"})
    first = await post(app, body, sign(SECRET, body, int(time.time())))
    again = await post(app, body, sign("old-secret", body, int(time.time())))
    assert (first.json(), again.json()) == ({"result": "recorded"}, {"result": "duplicate"})
    assert list(store.events) == ["v_pub_1:post.publish.complete"]
    assert failures == []


@pytest.mark.parametrize(
    "signature",
    [None, "t=1,s=abc", "nonsense", sign("wrong", b"{}", int(time.time()))],
)
async def test_unsigned_or_badly_signed_deliveries_are_refused(signature: str | None) -> None:
    store, forwarder, failures = FakeStore(), FakeForwarder(), list[int]()
    body = delivery("post.publish.complete", {"publish_id": "v_pub_1"})
    response = await post(app_with(store, forwarder, failures), body, signature)
    assert response.status_code == 401
    assert response.json() == {"error": "rejected"}
    assert store.events == {}
    assert failures == [1]


async def test_a_replayed_delivery_is_refused() -> None:
    store, forwarder, failures = FakeStore(), FakeForwarder(), list[int]()
    body = delivery("post.publish.complete", {"publish_id": "v_pub_1"})
    stale = sign(SECRET, body, int(time.time()) - 301)
    assert (await post(app_with(store, forwarder, failures), body, stale)).status_code == 401


async def test_authorization_removed_goes_to_auth_service_untouched() -> None:
    store, forwarder, failures = FakeStore(), FakeForwarder(), list[int]()
    body = delivery("authorization.removed", {"reason": 1})
    signature = sign(SECRET, body, int(time.time()))
    response = await post(app_with(store, forwarder, failures), body, signature)
    assert response.json() == {"result": "forwarded"}
    assert forwarder.forwarded == [(body, signature)]


async def test_a_forward_that_fails_is_delivered_again_later() -> None:
    store, forwarder, failures = FakeStore(), FakeForwarder(accept=False), list[int]()
    body = delivery("authorization.removed", {"reason": 1})
    app = app_with(store, forwarder, failures)
    response = await post(app, body, sign(SECRET, body, int(time.time())))
    assert response.status_code == 503
    forwarder.accept = True  # auth-service is back: TikTok's retry is forwarded
    retried = await post(app, body, sign(SECRET, body, int(time.time())))
    assert retried.json() == {"result": "forwarded"}
    assert len(forwarder.forwarded) == 2


async def test_a_replayed_removal_is_not_forwarded_again() -> None:
    """Issue 19, finding 7: a captured `authorization.removed` replayed inside the signature's
    window was forwarded again, and could disconnect an account connected again since."""
    store, forwarder, failures = FakeStore(), FakeForwarder(), list[int]()
    app = app_with(store, forwarder, failures)
    body = delivery("authorization.removed", {"reason": 1})
    signature = sign(SECRET, body, int(time.time()))
    first = await post(app, body, signature)
    replay = await post(app, body, signature)
    resigned = await post(app, body, sign("old-secret", body, int(time.time())))
    assert first.json() == {"result": "forwarded"}
    assert replay.json() == resigned.json() == {"result": "duplicate"}
    assert forwarder.forwarded == [(body, signature)]
    other = delivery("authorization.removed", {"reason": 2})
    assert (await post(app, other, sign(SECRET, other, int(time.time())))).status_code == 200
    assert len(forwarder.forwarded) == 2


@pytest.mark.parametrize(
    "header",
    [
        "t=\u0661\u0667\u0669\u0660" + "\u0660" * 6 + ",s=" + "0" * 64,
        "t=1790000000,s=" + "\u00e9" * 64,
    ],
    ids=["arabic-digits", "accented-signature"],
)
async def test_a_header_with_non_ascii_digits_or_bytes_is_401(header: str) -> None:
    store, forwarder, failures = FakeStore(), FakeForwarder(), list[int]()
    body = delivery("authorization.removed", {"reason": 1})
    headers = {b"Content-Type": b"application/json", b"TikTok-Signature": header.encode()}
    transport = httpx.ASGITransport(app=app_with(store, forwarder, failures))
    async with httpx.AsyncClient(transport=transport, base_url="http://pub") as client:
        response = await client.post(PATH, content=body, headers=headers)
    assert response.status_code == 401
    assert forwarder.forwarded == []


@pytest.mark.parametrize(
    "body", [b"not json", b"[1]", delivery("post.publish.failed", {"reason": "internal"})]
)
async def test_unreadable_deliveries_are_400(body: bytes) -> None:
    store, forwarder, failures = FakeStore(), FakeForwarder(), list[int]()
    response = await post(
        app_with(store, forwarder, failures), body, sign(SECRET, body, int(time.time()))
    )
    assert response.status_code == 400
