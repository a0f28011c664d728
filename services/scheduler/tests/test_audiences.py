"""The audiences API on real FerretDB and Kafka: tenancy, validation with field paths, imports
reporting rows by line, contacts paginated with their status, opt-outs; broadcasts refused
with the path of what is wrong, cancelled before their time, failing honestly when their
audience is gone; a WhatsApp post's own recipients followed like a broadcast's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from herald.errors import ErrorCategory
from herald.events import FailureDetail, PostFailed, PostRequested, RecipientOutcome
from herald.testkit import running
from herald.topics import Platform
from scheduler.testing import (
    KEY_B,
    FakePublisher,
    SchedulerEnv,
    auth,
    client,
    eventually,
    post_status,
)

pytestmark = pytest.mark.connected

TEMPLATE = {"name": "welcome", "language": "en_US", "components": []}


def whatsapp(options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    target = {"integration_id": "wa-1", "platform": "whatsapp", "options": options}
    return {"content": {}, "targets": [target], **extra}


async def new_audience(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post("/v1/audiences", json={"name": "a", **body}, headers=auth())
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_audiences_contacts_and_opt_outs(scheduler_env: SchedulerEnv) -> None:
    app = scheduler_env.app()
    async with running(app):
        http = client(app)
        audience = await new_audience(http, fields=["city"])
        base = f"/v1/audiences/{audience['audience_id']}"
        bad_fields = await http.post(
            "/v1/audiences", json={"name": "x", "fields": ["City", "phone"]}, headers=auth()
        )
        contact = {"phone": "+351 912 345 678", "opted_in": True, "fields": {"city": "Porto"}}
        added = await http.post(f"{base}/contacts", json=contact, headers=auth())
        again = await http.post(f"{base}/contacts", json=contact, headers=auth())
        invalid = await http.post(
            f"{base}/contacts",
            json={"phone": "12", "opted_in": True, "fields": {"shoe": "44", "phone": "+1"}},
            headers=auth(),
        )
        rows = [{"phone": f"+35191234{n:04d}", "opted_in": n % 2 == 0} for n in range(5)]
        imported = await http.post(
            f"{base}/imports",
            content=json.dumps([*rows, {"phone": "+351912345678", "opted_in": True}]),
            headers=auth(**{"Content-Type": "application/json"}),
        )
        wrong_type = await http.post(
            f"{base}/imports", content=b"x", headers=auth(**{"Content-Type": "text/plain"})
        )
        unreadable = await http.post(
            f"{base}/imports", content=b"name\nAna\n", headers=auth(**{"Content-Type": "text/csv"})
        )
        opted = await http.post("/v1/opt-outs", json={"phone": "+35191234 0002"}, headers=auth())
        opted_again = await http.post(
            "/v1/opt-outs", json={"phone": "+351912340002"}, headers=auth()
        )
        first = await http.get(f"{base}/contacts", params={"limit": 4}, headers=auth())
        rest = await http.get(
            f"{base}/contacts",
            params={"limit": 4, "cursor": first.json()["next_cursor"]},
            headers=auth(),
        )
        listed = await http.get("/v1/audiences", headers=auth())
        other = await http.get(base, headers=auth(KEY_B))
        other_contacts = await http.get(f"{base}/contacts", headers=auth(KEY_B))
        contact_id = added.json()["contact_id"]
        removed = await http.delete(f"{base}/contacts/{contact_id}", headers=auth())
        after = (await http.get(base, headers=auth())).json()
        deleted = await http.delete(base, headers=auth())
        gone = await http.get(base, headers=auth())
    assert {(v["path"], v["code"]) for v in bad_fields.json()["violations"]} == {
        ("fields[0]", "invalid_format"),
        ("fields[1]", "reserved"),
    }
    assert added.status_code == 201
    assert (added.json()["phone"], added.json()["status"]) == ("+351912345678", "subscribed")
    assert again.status_code == 409
    assert {(v["path"], v["code"]) for v in invalid.json()["violations"]} == {
        ("phone", "invalid_phone"),
        ("fields.shoe", "unknown_column"),
        ("fields.phone", "reserved"),
    }
    report = imported.json()
    assert (report["rows"], report["imported"], report["rejected_rows"]) == (6, 5, 1)
    assert [(p["line"], p["code"]) for p in report["problems"]] == [(1, "duplicate")]
    assert wrong_type.status_code == 415
    assert unreadable.status_code == 422
    assert unreadable.json()["violations"][0]["code"] == "missing_phone_column"
    assert (opted.status_code, opted_again.status_code) == (201, 200)
    page = first.json()["items"] + rest.json()["items"]
    assert [c["phone"] for c in page] == sorted(c["phone"] for c in page)
    assert len(page) == 6
    assert rest.json()["next_cursor"] is None
    statuses = {c["phone"]: c["status"] for c in page}
    assert statuses["+351912340001"] == "not_opted_in"
    assert statuses["+351912340002"] == "opted_out"
    assert [(a["contacts"], a["opted_in"]) for a in listed.json()["items"]] == [(6, 4)]
    assert (other.status_code, other_contacts.status_code) == (404, 404)
    assert (removed.status_code, after["contacts"], after["opted_in"]) == (204, 5, 3)
    assert (deleted.status_code, gone.status_code) == (204, 404)


async def test_broadcasts_are_refused_with_the_path_of_what_is_wrong(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()
    async with running(app):
        http = client(app)
        audience = (await new_audience(http, fields=["city"]))["audience_id"]
        body = {"name": "t", "language": "en_US"}
        with_param = {
            **body,
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "{{contact.shoe}}"}]}
            ],
        }
        cases = {
            "no_template": {"audience_id": audience},
            "unknown_audience": {"audience_id": "au_nope", "template": body},
            "unknown_field": {"audience_id": audience, "template": with_param},
            "both": {
                "audience_id": audience,
                "template": body,
                "recipients": [{"recipient_id": "r1", "to": "+351912345678"}],
            },
            "direct_placeholder": {
                "template": with_param,
                "recipients": [{"recipient_id": "r1", "to": "+351912345678"}],
            },
        }
        answers = {
            name: await http.post(
                "/v1/posts", json=whatsapp({"platform": "whatsapp", **opts}), headers=auth()
            )
            for name, opts in cases.items()
        }
        other_business = await http.post(
            "/v1/posts",
            json=whatsapp({"platform": "whatsapp", "audience_id": audience, "template": body}),
            headers=auth(KEY_B),
        )
    found = {
        name: {(v["path"], v["code"]) for v in r.json()["violations"]}
        for name, r in answers.items()
    }
    param = "targets[0].options.template.components[0].parameters[0].text"
    assert ("targets[0].options.template", "required") in found["no_template"]
    assert ("targets[0].options.audience_id", "not_found") in found["unknown_audience"]
    assert (param, "unknown_field") in found["unknown_field"]
    assert ("targets[0].options.recipients", "not_allowed") in found["both"]
    assert (param, "not_allowed") in found["direct_placeholder"]
    assert other_business.status_code == 422  # biz-b has neither the audience nor wa-1


async def test_a_cancelled_broadcast_is_never_expanded_and_a_lost_audience_fails_it(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()
    async with FakePublisher(env.kafka_bootstrap, env.names) as publisher, running(app):
        http = client(app)
        audience = await new_audience(http)
        base = f"/v1/audiences/{audience['audience_id']}"
        contact = {"phone": "+351912345678", "opted_in": True}
        assert (await http.post(f"{base}/contacts", json=contact, headers=auth())).is_success
        options = {"platform": "whatsapp", "audience_id": audience["audience_id"]}
        later = {"publish_at": (datetime.now(UTC) + timedelta(seconds=6)).isoformat()}
        bodies = [whatsapp({**options, "template": TEMPLATE}, schedule=later) for _ in range(2)]
        cancelled, doomed = [
            (
                await http.post("/v1/posts", json=b, headers=auth(**{"Idempotency-Key": str(i)}))
            ).json()["post_id"]
            for i, b in enumerate(bodies)
        ]
        await http.post(f"/v1/posts/{cancelled}/cancel", headers=auth())
        await http.delete(base, headers=auth())
        failed = await eventually(lambda: post_status(http, doomed, "failed"), 30)
        shown = (await http.get(f"/v1/posts/{cancelled}", headers=auth())).json()
    assert failed["targets"][0]["last_error"]["code"] == "audience_not_found"
    assert shown["status"] == "cancelled"
    assert [t["role"] for t in shown["targets"]] == ["broadcast"]
    assert publisher.requests == []


async def test_a_post_that_lists_its_recipients_is_followed_like_a_broadcast(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    app = env.app()

    def nothing_sent(request: PostRequested) -> PostFailed:
        outcomes = [
            RecipientOutcome(
                recipient_id=r, status="failed", error_code="131047", error_message="window"
            ).model_dump()
            for r in ("r1", "r2")
        ]
        refs = request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"})
        error = FailureDetail(category=ErrorCategory.PERMANENT, code="131047", message="no")
        return PostFailed(
            **refs,
            platform=Platform.WHATSAPP,
            attempt=1,
            final=True,
            error=error,
            failed_at=datetime.now(UTC),
            evidence={"recipients": outcomes},
        )

    recipients = [
        {"recipient_id": "r1", "to": "+351912345678"},
        {"recipient_id": "r2", "to": "+351912345679"},
    ]
    body = whatsapp({"platform": "whatsapp", "template": TEMPLATE, "recipients": recipients})
    async with FakePublisher(env.kafka_bootstrap, env.names, nothing_sent), running(app):
        http = client(app)
        post_id = (await http.post("/v1/posts", json=body, headers=auth())).json()["post_id"]
        failed = await eventually(lambda: post_status(http, post_id, "failed"))
        page = (await http.get(f"/v1/posts/{post_id}/recipients", headers=auth())).json()
        other = await http.get(f"/v1/posts/{post_id}/recipients", headers=auth(KEY_B))
    assert failed["recipients"]["failed"] == 2
    assert failed["targets"][0]["recipients"]["recipients"] == 2
    assert [(r["recipient_id"], r["state"], r["error_code"]) for r in page["items"]] == [
        ("r1", "failed", "131047"),
        ("r2", "failed", "131047"),
    ]
    assert page["items"][0]["to"] == "+351*****5678"
    assert other.status_code == 404
