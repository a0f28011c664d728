"""The posts API on real FerretDB and Kafka: idempotency, validation with field paths, time
zones, tenancy, authentication, listing with filters and cursors, cancel, drafts, retry."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from herald.events import IntegrationStatus
from herald.testkit import running
from herald.topics import Platform
from herald.whatsapp_registry import RegisteredTemplate
from scheduler.testing import KEY_A, KEY_B, SchedulerEnv, auth, client, post_body

pytestmark = pytest.mark.connected

LATER = {"publish_at": "2031-03-30T09:00:00", "timezone": "Europe/Lisbon"}


async def create(http: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await http.post("/v1/posts", json=body, headers=auth(**headers))


async def test_the_same_idempotency_key_gives_one_post(scheduler_env: SchedulerEnv) -> None:
    scheduler_env.integrations.add("fb-1")
    app = scheduler_env.app()
    async with running(app):
        http = client(app)
        body = post_body("fb-1", schedule=LATER)
        first = await create(http, body, **{"Idempotency-Key": "k-1"})
        again = await create(http, body, **{"Idempotency-Key": "k-1"})
        other_body = await create(
            http, post_body("fb-1", text="else"), **{"Idempotency-Key": "k-1"}
        )
        other_business = await http.post(
            "/v1/posts", json=body, headers=auth(KEY_B, **{"Idempotency-Key": "k-1"})
        )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["post_id"] == first.json()["post_id"]
    assert other_body.status_code == 409
    assert other_body.json()["error"] == "conflict"
    # biz-b has no integration fb-1: a key is per business, so this is a new (invalid) post
    assert other_business.status_code == 422
    assert await scheduler_env.db["posts"].count_documents({}) == 1
    assert await scheduler_env.db["targets"].count_documents({}) == 1


async def test_a_submission_cut_short_is_finished_by_its_replay(
    scheduler_env: SchedulerEnv,
) -> None:
    """A crash after the post's insert and before its targets and queue rows: the replay finds
    the post through the unique index and finishes it."""
    scheduler_env.integrations.add("fb-1")
    app = scheduler_env.app()
    body = post_body("fb-1", schedule=LATER)
    async with running(app):
        http = client(app)
        first = (await create(http, body, **{"Idempotency-Key": "cut"})).json()
        post_id = first["post_id"]
        db = scheduler_env.db
        await db["targets"].delete_many({"post_id": post_id})
        await db["pending"].delete_many({"post_id": post_id})
        await db["history"].delete_many({"post_id": post_id})
        replay = await create(http, body, **{"Idempotency-Key": "cut"})
        shown = await http.get(f"/v1/posts/{post_id}", headers=auth())
        again = await create(http, body, **{"Idempotency-Key": "cut"})
    assert replay.status_code == 200
    assert replay.json()["post_id"] == post_id
    assert shown.json()["status"] == "scheduled"
    assert [t["target_id"] for t in shown.json()["targets"]] == [f"{post_id}-0"]
    assert await db["pending"].count_documents({"post_id": post_id}) == 1
    assert again.json()["post_id"] == post_id
    assert await db["posts"].count_documents({}) == 1


async def test_a_deleted_drafts_key_can_be_used_again(scheduler_env: SchedulerEnv) -> None:
    """The unique index holds a key only while its post exists."""
    scheduler_env.integrations.add("fb-1")
    app = scheduler_env.app()
    new_body = post_body("fb-1", text="new", schedule=LATER)
    async with running(app):
        http = client(app)
        draft = (
            await create(http, post_body("fb-1", draft=True), **{"Idempotency-Key": "d"})
        ).json()
        deleted = await http.delete(f"/v1/posts/{draft['post_id']}", headers=auth())
        new = await create(http, new_body, **{"Idempotency-Key": "d"})
        replay = await create(http, new_body, **{"Idempotency-Key": "d"})
    assert deleted.status_code == 204
    assert new.status_code == 201
    assert new.json()["post_id"] != draft["post_id"]
    assert replay.status_code == 200
    assert replay.json()["post_id"] == new.json()["post_id"]


async def test_every_violation_is_reported_with_its_path(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("ig-1", platform=Platform.INSTAGRAM)
    env.integrations.add("old", status=IntegrationStatus.EXPIRED)
    env.integrations.add("tt-1", platform=Platform.TIKTOK)
    env.integrations.add("tt-2", platform=Platform.TIKTOK)
    body = {
        "content": {"text": "hi"},
        "targets": [
            {"integration_id": "fb-1", "platform": "facebook"},
            {"integration_id": "ig-1", "platform": "instagram"},
            {"integration_id": "old", "platform": "facebook"},
            {"integration_id": "nope", "platform": "facebook"},
            {"integration_id": "fb-1", "platform": "facebook"},
            {"integration_id": "tt-1", "platform": "facebook"},
            {"integration_id": "tt-2", "platform": "tiktok"},
        ],
        "schedule": {"publish_at": "2031-03-30T01:30:00", "timezone": "Mars/Olympus"},
    }
    app = env.app()
    async with running(app):
        response = await create(client(app), body)
    assert response.status_code == 422
    found = {(v["path"], v["code"]) for v in response.json()["violations"]}
    assert ("targets[2].integration_id", "needs_reauth") in found
    assert ("targets[3].integration_id", "not_found") in found
    assert ("targets[4].integration_id", "duplicate") in found
    assert ("targets[5].platform", "wrong_platform") in found
    assert ("schedule.timezone", "invalid_format") in found
    assert any(p.startswith("targets[6].options") for p, _ in found)  # TikTok privacy
    assert ("targets[1].content.media", "required") in found  # Instagram needs media
    reauth = next(v for v in response.json()["violations"] if v["code"] == "needs_reauth")
    assert "reconnect" in reauth["message"].lower()


async def test_schema_errors_name_field_paths(scheduler_env: SchedulerEnv) -> None:
    app = scheduler_env.app()
    body = {"content": {"text": "x"}, "targets": [{"platform": "facebook"}], "extra": 1}
    async with running(app):
        response = await create(client(app), body)
    assert response.status_code == 422
    paths = {v["path"] for v in response.json()["violations"]}
    assert paths == {"targets[0].integration_id", "extra"}


async def test_local_times_are_read_in_their_zone(scheduler_env: SchedulerEnv) -> None:
    scheduler_env.integrations.add("fb-1")
    app = scheduler_env.app()
    async with running(app):
        http = client(app)
        summer = await create(http, post_body("fb-1", schedule=LATER))
        gap = await create(
            http,
            post_body(
                "fb-1", schedule={"publish_at": "2031-03-30T01:30:00", "timezone": "Europe/Lisbon"}
            ),
        )
        naive = await create(http, post_body("fb-1", schedule={"publish_at": "2031-01-01T10:00"}))
    # 09:00 in Lisbon on 30 March 2031 is summer time (UTC+1)
    assert summer.json()["due_at"].startswith("2031-03-30T08:00:00")
    assert summer.json()["schedule"]["timezone"] == "Europe/Lisbon"
    assert summer.json()["status"] == "scheduled"
    assert gap.status_code == 422
    assert gap.json()["violations"][0]["path"] == "schedule.publish_at"
    assert naive.status_code == 422
    assert naive.json()["violations"][0]["path"] == "schedule.timezone"


async def test_keys_and_tenancy(scheduler_env: SchedulerEnv) -> None:
    scheduler_env.integrations.add("fb-1")
    app = scheduler_env.app()
    async with running(app):
        http = client(app)
        post_id = (await create(http, post_body("fb-1", schedule=LATER))).json()["post_id"]
        missing = await http.get(f"/v1/posts/{post_id}")
        malformed = await http.get(f"/v1/posts/{post_id}", headers={"Authorization": "Bearer x"})
        other = await http.get(f"/v1/posts/{post_id}", headers=auth(KEY_B))
        other_cancel = await http.post(f"/v1/posts/{post_id}/cancel", headers=auth(KEY_B))
        other_list = await http.get("/v1/posts", headers=auth(KEY_B))
        scheduler_env.keys.revoke(KEY_A)
        revoked = await http.get(f"/v1/posts/{post_id}", headers=auth(KEY_A))
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert malformed.status_code == 401
    assert other.status_code == 404
    assert other_cancel.status_code == 404
    assert other_list.json()["items"] == []
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "unauthorized"


async def test_auth_service_down_is_503_not_a_rejection(scheduler_env: SchedulerEnv) -> None:
    scheduler_env.integrations.add("fb-1")
    scheduler_env.integrations.down = True
    app = scheduler_env.app()
    async with running(app):
        response = await create(client(app), post_body("fb-1"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert await scheduler_env.db["posts"].count_documents({}) == 0


async def test_list_filters_and_cursor_pagination(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("ig-1", platform=Platform.INSTAGRAM)
    image = {"kind": "image", "url": "https://cdn.example/a.jpg", "mime_type": "image/jpeg"}
    app = env.app()
    async with running(app):
        http = client(app)
        for n in range(5):
            await create(http, post_body("fb-1", text=f"post {n}", schedule=LATER))
        ig_body = {
            "content": {"text": "photo", "media": [image]},
            "targets": [{"integration_id": "ig-1", "platform": "instagram"}],
            "schedule": LATER,
        }
        await create(http, ig_body)
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            query: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/v1/posts", params=query, headers=auth())).json()
            seen.extend(p["content"]["text"] for p in page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        instagram = (await http.get("/v1/posts?platform=instagram", headers=auth())).json()
        by_integration = (await http.get("/v1/posts?integration_id=fb-1", headers=auth())).json()
        published = (await http.get("/v1/posts?status=published", headers=auth())).json()
        window = await http.get(
            "/v1/posts",
            params={"due_from": "2031-03-30T07:00:00Z", "due_to": "2031-03-30T09:00:00Z"},
            headers=auth(),
        )
        bad_cursor = await http.get("/v1/posts?cursor=zzz", headers=auth())
    assert seen == ["photo", "post 4", "post 3", "post 2", "post 1", "post 0"]
    assert pages == 3
    assert [p["content"]["text"] for p in instagram["items"]] == ["photo"]
    assert len(by_integration["items"]) == 5
    assert published["items"] == []
    assert len(window.json()["items"]) == 6
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["violations"][0]["path"] == "cursor"


async def test_cancel_drafts_and_delete(scheduler_env: SchedulerEnv) -> None:
    scheduler_env.integrations.add("fb-1")
    scheduler_env.integrations.add("fb-2")
    app = scheduler_env.app()
    async with running(app):
        http = client(app)
        later = (await create(http, post_body("fb-1", "fb-2", schedule=LATER))).json()
        cancelled = await http.post(f"/v1/posts/{later['post_id']}/cancel", headers=auth())
        again = await http.post(f"/v1/posts/{later['post_id']}/cancel", headers=auth())
        not_a_draft = await http.delete(f"/v1/posts/{later['post_id']}", headers=auth())
        draft = (await create(http, post_body("fb-1", draft=True, schedule=LATER))).json()
        pending_rows = await scheduler_env.db["pending"].count_documents({})
        deleted = await http.delete(f"/v1/posts/{draft['post_id']}", headers=auth())
        gone = await http.get(f"/v1/posts/{draft['post_id']}", headers=auth())
        draft2 = (await create(http, post_body("fb-1", draft=True))).json()
        scheduled = await http.post(
            f"/v1/posts/{draft2['post_id']}/schedule", json={"schedule": LATER}, headers=auth()
        )
    assert cancelled.status_code == 200
    assert cancelled.json()["post"]["status"] == "cancelled"
    assert sorted(cancelled.json()["changed"]) == [f"{later['post_id']}-0", f"{later['post_id']}-1"]
    assert again.status_code == 409
    assert "already cancelled" in again.json()["message"]
    assert not_a_draft.status_code == 409
    assert draft["status"] == "draft"
    assert pending_rows == 0  # cancelled targets left the queue; the draft never entered it
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert scheduled.status_code == 200
    assert scheduled.json()["post"]["status"] == "scheduled"
    assert scheduled.json()["post"]["due_at"].startswith("2031-03-30T08:00:00")


async def test_a_template_message_is_checked_against_the_accounts_templates(
    scheduler_env: SchedulerEnv,
) -> None:
    """Issue 16: a template that does not exist or has other parameter counts was accepted and
    failed at send (132001 / 132000); now it is refused with the target's path."""
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    env.integrations.registered["wa-1"] = [
        RegisteredTemplate(name="order_update", language="en_US", status="APPROVED", body_params=2)
    ]

    def body(name: str, parameters: int) -> dict[str, Any]:
        body_component = {
            "type": "body",
            "parameters": [{"type": "text", "text": f"v{i}"} for i in range(parameters)],
        }
        options = {
            "platform": "whatsapp",
            "recipients": [{"recipient_id": "r1", "to": "+351911000001"}],
            "template": {"name": name, "language": "en_US", "components": [body_component]},
        }
        return {
            "content": {"text": "hi"},
            "targets": [
                {"integration_id": "fb-1", "platform": "facebook"},
                {"integration_id": "wa-1", "platform": "whatsapp", "options": options},
            ],
        }

    app = env.app()
    async with running(app):
        http = client(app)
        unknown = await create(http, body("order_updates", 2))
        miscounted = await create(http, body("order_update", 1))
        fits = await create(http, body("order_update", 2))
    assert unknown.status_code == 422, unknown.text
    assert [(v["path"], v["code"]) for v in unknown.json()["violations"]] == [
        ("targets[1].options.template.name", "not_found")
    ]
    assert "order_update" in unknown.json()["violations"][0]["message"]  # what exists
    assert miscounted.status_code == 422, miscounted.text
    assert [(v["path"], v["code"]) for v in miscounted.json()["violations"]] == [
        ("targets[1].options.template.components", "parameter_count")
    ]
    assert fits.status_code == 201, fits.text
    assert ("wa-1", True) in env.integrations.template_asks  # a miss asks the platform again
