"""The pure rules of outbound webhooks: signatures (Standard Webhooks), the retry ladder, which
URLs may receive deliveries, and what every notice carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from herald.events import IntegrationDisconnected, IntegrationStatus
from herald.notices import NOTICE_TYPES, WEBHOOK_TYPES, TargetPublished, webhook_type
from herald.topics import Platform
from scheduler.webhooks.addresses import check_endpoint_url
from scheduler.webhooks.models import Endpoint, Secret, new_secret
from scheduler.webhooks.sender import next_delay, signature
from scheduler.webhooks.settings import WebhookSettings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _headers(message_id: str, at: datetime, sig: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": sig,
    }


def test_signature_covers_id_timestamp_and_body() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    body = '{"type":"ping","data":{}}'
    sig = signature([secret], "msg-1", now, body)
    receiver = Webhook(secret)
    assert receiver.verify(body, _headers("msg-1", now, sig)) == {"type": "ping", "data": {}}
    forged = [
        (body.replace("ping", "pong"), _headers("msg-1", now, sig)),
        (body, _headers("msg-2", now, sig)),
        (body, _headers("msg-1", now - timedelta(seconds=1), sig)),
    ]
    for changed_body, headers in forged:
        with pytest.raises(WebhookVerificationError):
            receiver.verify(changed_body, headers)


def test_a_rotation_signs_with_both_secrets_during_the_overlap() -> None:
    old, new = new_secret(), new_secret()
    endpoint = Endpoint(
        id="we_1",
        business_id="biz-a",
        url="https://example.com/hook",
        event_types=(),
        description=None,
        enabled=True,
        secrets=(Secret(new, NOW), Secret(old, NOW - timedelta(days=9), NOW + timedelta(hours=1))),
        created_at=NOW,
        updated_at=NOW,
    )
    now = datetime.now(UTC)
    during = signature(endpoint.signing_secrets(NOW), "m", now, "{}")
    after = signature(endpoint.signing_secrets(NOW + timedelta(hours=2)), "m", now, "{}")
    assert len(during.split(" ")) == 2
    for secret in (old, new):  # a receiver holding either secret accepts it
        Webhook(secret).verify("{}", _headers("m", now, during), json_parse=False)
    with pytest.raises(WebhookVerificationError):  # the old one no longer signs
        Webhook(old).verify("{}", _headers("m", now, after), json_parse=False)


def test_retries_follow_the_delay_tiers_then_repeat_the_longest() -> None:
    settings = WebhookSettings()
    waits = [next_delay(settings, n) for n in range(1, 8)]
    assert waits == [10, 60, 600, 3600, 3600, 3600, 3600]


@pytest.mark.parametrize(
    ("url", "allow_loopback", "refused"),
    [
        ("https://hooks.example.com/herald", False, None),
        ("http://hooks.example.com/herald", False, "only https"),
        ("https://127.0.0.1/hook", False, "loopback"),
        ("https://localhost/hook", False, "local or internal"),
        ("https://10.1.2.3/hook", True, "private"),
        ("https://169.254.169.254/latest", True, "link-local"),
        ("https://user:pw@hooks.example.com/", False, "password"),
        ("https://hooks.example.com:22/", False, "port 22"),
        ("http://127.0.0.1:8123/hook", True, None),
        ("http://localhost:8123/hook", True, None),
    ],
)
def test_endpoint_urls_follow_the_media_fetchers_address_rules(
    url: str, allow_loopback: bool, refused: str | None
) -> None:
    settings = WebhookSettings(allow_loopback=allow_loopback)
    if refused is None:
        assert check_endpoint_url(url, settings) == url
        return
    with pytest.raises(ValueError, match=refused):
        check_endpoint_url(url, settings)


def test_every_notice_has_a_webhook_type_and_the_kafka_ones_a_versioned_type() -> None:
    assert set(WEBHOOK_TYPES) == {
        "post.accepted",
        "target.published",
        "target.failed",
        "target.retrying",
        "post.finished",
        "broadcast.progressed",
        "broadcast.completed",
        "integration.expiring",
        "integration.needs_reconnect",
        "integration.disconnected",
        "webhook.endpoint_disabled",
        "ping",
    }
    assert all(t.startswith("herald.") and t.endswith(".v1") for t in NOTICE_TYPES)
    gone = IntegrationDisconnected(
        integration_id="int_1",
        business_id="biz-a",
        platform=Platform.TIKTOK,
        account_id="acct",
        status=IntegrationStatus.DISCONNECTED,
        occurred_at=NOW,
    )
    assert webhook_type(gone) == "integration.disconnected"


def test_a_target_notice_carries_the_whole_correlation() -> None:
    notice = TargetPublished(
        business_id="biz-a",
        occurred_at=NOW,
        post_id="p_1",
        idempotency_key="order-7",
        external_ref="crm-7",
        source_event_id="evt-7",
        target_id="p_1-2",
        target_index=2,
        integration_id="int_9",
        platform=Platform.INSTAGRAM,
        attempt=1,
        published_at=NOW,
    )
    body = notice.model_dump(mode="json")
    assert {k: body[k] for k in ("post_id", "target_index", "integration_id")} == {
        "post_id": "p_1",
        "target_index": 2,
        "integration_id": "int_9",
    }
    assert (body["external_ref"], body["idempotency_key"], body["source_event_id"]) == (
        "crm-7",
        "order-7",
        "evt-7",
    )
    assert notice.subject == "p_1-2"
