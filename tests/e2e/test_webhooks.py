"""A business told everything by signed webhooks (issue 16, ADR 0021), through the whole system
(every service a process, real Kafka and FerretDB, accounts connected through OAuth on the
sandbox).

The business registers a receiver on loopback, which verifies every delivery with the Standard
Webhooks library and checks that changing the id, the timestamp or the body breaks the signature,
and which answers 500 to its first deliveries. It publishes one post to Facebook, Instagram,
WhatsApp and TikTok; the TikTok creator's tokens were revoked at the sandbox, so that target
fails for good and its connection needs reconnecting. Facebook is connected again: its 60-day
user token ends within the 60 days the test stack warns ahead (tests/conftest.py), so
`integration.expiring` is told. Retries wait 1 s then 2 s here (the delay tiers in production).

The business is the session's, shared with the other system tests, and its endpoint is told
about everything of the business while the test runs: what other tests left behind may be told
too (a TikTok creator whose tokens test_tiktok.py revoked, found by publisher-tiktok's insights
job once test_analytics.py moved the sandbox's clock a day on, is told to reconnect). So the
assertions name this test's post and connections, and nothing told is about them but what is
expected.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.conftest import Connected

from herald.testkit.servers import serving_in_thread
from herald_localstack import demo
from scheduler.webhooks.testing import Receiver

pytestmark = pytest.mark.e2e

FINAL_STATES = ("published", "failed", "partially_published")


def _api(connected: Connected, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {connected.api_key}", **kwargs.pop("headers", {})}
    url = f"{connected.system.url('scheduler')}{path}"
    response = httpx.request(method, url, headers=headers, timeout=60, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.text[:500]}"
    return response.json() if response.content else None


def _sandbox(connected: Connected, method: str, path: str, body: dict[str, Any]) -> Any:
    url = f"{connected.system.url('platform-sandbox')}/_sandbox{path}"
    response = httpx.request(method, url, json=body, timeout=60)
    assert response.status_code < 300, f"{method} {path}: {response.text[:500]}"
    return response.json()


def _until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"not within {timeout_s} s: {what}")


def _revoked_creator(connected: Connected, run: str) -> str:
    """A TikTok creator of this test, connected, then its tokens revoked at the platform."""
    user = _sandbox(connected, "POST", "/tiktok/users", {"username": f"hooks.{run}"})
    auth = connected.system.url("auth-service")
    with httpx.Client(timeout=30) as browser:
        (integration,) = demo.connect_all(
            browser, auth, connected.api_key, "tiktok", sandbox_user=user["open_id"]
        )
    _sandbox(connected, "POST", "/tokens/revoke", {"subject": user["open_id"]})
    return str(integration)


def _post_body(connected: Connected, tiktok: str, run: str) -> dict[str, Any]:
    # Spelled `localhost`: under the prefix verified for the TikTok app (tests/conftest.py), so
    # the TikTok target gets as far as its revoked token.
    sandbox = connected.system.url("platform-sandbox").replace("127.0.0.1", "localhost")
    image = f"{sandbox}/_sandbox/media/hooks-{run}.jpg?bytes=30000&width=1080&height=1080"
    demo_number = connected.sandbox("/_sandbox/accounts")["demo"]
    customer = f"3519{run[:4].translate(str.maketrans('abcdef', '123456'))}77"
    # The customer wrote first: a service window is open, so a text may go without a template.
    inbound = {"phone_number_id": demo_number["phone_number_id"], "from": customer}
    _sandbox(connected, "POST", "/whatsapp/inbound", inbound)
    ids = connected.integrations
    return {
        "content": {
            "text": f"Fresh rye, warm from the oven herald-marker:hooks{run}",
            "media": [{"kind": "image", "url": image, "mime_type": "image/jpeg"}],
        },
        "external_ref": f"crm-{run}",
        "targets": [
            {"integration_id": ids["facebook"], "platform": "facebook"},
            {"integration_id": ids["instagram"], "platform": "instagram"},
            {
                "integration_id": ids["whatsapp"],
                "platform": "whatsapp",
                "options": {
                    "platform": "whatsapp",
                    "recipients": [{"recipient_id": "c1", "to": f"+{customer}"}],
                },
            },
            {
                "integration_id": tiktok,
                "platform": "tiktok",
                "options": {"platform": "tiktok", "privacy_level": "PUBLIC_TO_EVERYONE"},
            },
        ],
    }


def _delivered_log(connected: Connected, endpoint_id: str) -> dict[str, Any] | None:
    """The endpoint's delivery log once every delivery in it was delivered."""
    log: dict[str, Any] = _api(connected, "GET", f"/v1/webhooks/endpoints/{endpoint_id}/deliveries")
    return log if all(d["state"] == "delivered" for d in log["items"]) else None


def _assert_connections_told(
    receiver: Receiver, connected: Connected, tiktok: str, pages: set[str]
) -> None:
    """What the business was told about its connections while the test ran."""
    # Told once that the revoked creator needs reconnecting, and not about the connections the
    # post went out on; a connection another test ended may be told too (see above).
    reconnect = [r.data["integration_id"] for r in receiver.of_type("integration.needs_reconnect")]
    assert reconnect.count(tiktok) == 1
    assert len(reconnect) == len(set(reconnect))  # once per connection
    posted_on = {connected.integrations[p] for p in ("facebook", "instagram", "whatsapp")}
    assert not set(reconnect) & (pages | posted_on)
    expiring = receiver.of_type("integration.expiring")
    assert connected.integrations["facebook"] in pages
    told = [(r.data["integration_id"], r.data["reconnect_by"]) for r in expiring]
    assert len(told) == len(set(told))  # once per connection and deadline
    # Facebook's pages, connected again here; the session's first connections may be told too,
    # when their first check came after the endpoint was registered.
    assert pages <= {i for i, _ in told} <= pages | set(connected.integrations.values())
    assert all(50 <= r.data["days_left"] <= 60 for r in expiring)


@pytest.mark.timeout(600)
def test_a_business_is_told_every_outcome_by_signed_webhooks(connected: Connected) -> None:
    run = uuid.uuid4().hex[:8]
    receiver = Receiver(failures_left=3)
    with serving_in_thread(receiver.app()) as base:
        endpoint = _api(connected, "POST", "/v1/webhooks/endpoints", json={"url": f"{base}/hook"})
        receiver.secret = endpoint["secret"]
        tiktok = _revoked_creator(connected, run)
        auth = connected.system.url("auth-service")
        with httpx.Client(timeout=30) as browser:  # Facebook connected again: a new 60-day token
            pages = set(demo.connect_all(browser, auth, connected.api_key, "facebook"))
        post_id = _api(
            connected,
            "POST",
            "/v1/posts",
            json=_post_body(connected, tiktok, run),
            headers={"Idempotency-Key": f"hooks-{run}"},
        )["post_id"]
        _until(lambda: receiver.of_type("post.finished"), 300, "post.finished delivered")
        _until(lambda: receiver.of_type("integration.needs_reconnect"), 120, "needs_reconnect")
        _until(lambda: receiver.of_type("integration.expiring"), 60, "integration.expiring")
        log = _until(lambda: _delivered_log(connected, endpoint["id"]), 60, "all delivered")
        found = _api(connected, "GET", f"/v1/posts?external_ref=crm-{run}")

    about_post = [r for r in receiver.delivered() if r.data.get("post_id") == post_id]
    kinds = sorted(r.type for r in about_post)
    print(f"told about the post: {kinds}")  # noqa: T201
    assert kinds.count("post.accepted") == 1
    assert kinds.count("post.finished") == 1
    assert kinds.count("target.published") == 3
    assert kinds.count("target.failed") == 1
    assert len({r.message_id for r in receiver.delivered()}) == len(receiver.delivered())
    assert all(r.verified and r.forgeries_refused for r in receiver.received)
    assert all(r.data["external_ref"] == f"crm-{run}" for r in about_post)
    assert all(r.data["idempotency_key"] == f"hooks-{run}" for r in about_post)
    (failed,) = [r.data for r in about_post if r.type == "target.failed"]
    assert (failed["target_index"], failed["integration_id"]) == (3, tiktok)
    assert failed["error"]["category"] == "needs_reauth"
    assert failed["error"]["remediation"]
    (finished,) = [r.data for r in about_post if r.type == "post.finished"]
    assert finished["status"] == "partially_published"
    published = {r.data["target_index"] for r in about_post if r.type == "target.published"}
    assert published == {0, 1, 2}
    _assert_connections_told(receiver, connected, tiktok, pages)
    # The deliveries answered 500 came again, and the log shows both answers.
    refused = {r.message_id for r in receiver.received if r.answered == 500}
    assert len(refused) == 3
    assert refused <= {r.message_id for r in receiver.delivered()}
    logged = {d["message_id"]: [a["status_code"] for a in d["attempt_log"]] for d in log["items"]}
    assert {m: logged[m][:1] for m in refused} == {m: [500] for m in refused}
    assert all(logged[m][-1] == 200 for m in refused)
    assert [p["post_id"] for p in found["items"]] == [post_id]
