"""Console users on the real store (ADR 0024): sign-in, roles enforced by the APIs,
invitations (single use, expiry), sign-out and sign-out everywhere, the failure limits, and
refusals that name the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from auth_service.domain import hash_secret
from auth_service.people import INVITATION_PREFIX, Invitation, Role, new_token
from auth_service.testing import ADMIN_TOKEN, SERVICE_TOKENS, World, WorldFactory

pytestmark = pytest.mark.connected

PASSWORD = "a long enough password"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def owner_of(world: World, email: str = "owner@bakery.example") -> str:
    made = await world.client.post(
        f"/v1/admin/businesses/{world.business_id}/users",
        json={"email": email, "name": "Olga Owner", "password": PASSWORD},
        headers=ADMIN,
    )
    assert made.status_code == 201, made.text
    return await sign_in(world.client, email, PASSWORD)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> str:
    signed = await client.post("/v1/sessions", json={"email": email, "password": password})
    assert signed.status_code == 201, signed.text
    token: str = signed.json()["token"]
    return token


async def invite(world: World, owner: str, email: str, role: str) -> str:
    made = await world.client.post(
        "/v1/team/invitations", json={"email": email, "role": role}, headers=bearer(owner)
    )
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


async def introspect(world: World, token: str) -> dict[str, Any]:
    answer = await world.client.post(
        "/internal/v1/api-keys/introspect",
        json={"key": token},
        headers=bearer(SERVICE_TOKENS["scheduler"]),
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_roles_are_enforced_and_follow_the_team(make_world: WorldFactory) -> None:
    world = await make_world()
    owner = await owner_of(world)
    me = await world.client.get("/v1/session", headers=bearer(owner))
    assert me.json()["role"] == "owner"
    assert me.json()["business_name"] == "Bakery"

    link = await invite(world, owner, "Vic@Bakery.example", "viewer")
    details = await world.client.post("/v1/invitations/inspect", json={"token": link})
    assert details.json()["email"] == "vic@bakery.example"
    assert not details.json()["has_account"]
    joined = await world.client.post(
        "/v1/invitations/accept", json={"token": link, "name": "Vic", "password": PASSWORD}
    )
    assert joined.status_code == 201, joined.text
    viewer = joined.json()["token"]
    assert joined.json()["role"] == "viewer"

    # A viewer reads, and every write is refused: here and, by introspection, on the scheduler.
    assert (await world.client.get("/v1/integrations", headers=bearer(viewer))).status_code == 200
    write = await world.client.delete("/v1/integrations/int_x", headers=bearer(viewer))
    assert write.status_code == 403
    assert write.json()["error"] == "missing_scope"
    assert sorted((await introspect(world, viewer))["scopes"]) == [
        "integrations:read",
        "posts:read",
    ]
    refused = await world.client.get("/v1/team", headers=bearer(viewer))
    assert refused.status_code == 403
    assert refused.json()["error"] == "not_an_owner"

    team = (await world.client.get("/v1/team", headers=bearer(owner))).json()
    viewer_id = next(m["user_id"] for m in team["members"] if m["role"] == "viewer")
    promoted = await world.client.patch(
        f"/v1/team/members/{viewer_id}", json={"role": "editor"}, headers=bearer(owner)
    )
    assert promoted.status_code == 200, promoted.text
    assert "posts:write" in (await introspect(world, viewer))["scopes"]  # at once

    owner_id = next(m["user_id"] for m in team["members"] if m["role"] == "owner")
    last = await world.client.patch(
        f"/v1/team/members/{owner_id}", json={"role": "viewer"}, headers=bearer(owner)
    )
    assert last.status_code == 409
    assert last.json()["error"] == "last_owner"

    removed = await world.client.delete(f"/v1/team/members/{viewer_id}", headers=bearer(owner))
    assert removed.status_code == 204
    assert (await world.client.get("/v1/session", headers=bearer(viewer))).status_code == 401
    assert (await introspect(world, viewer)) == {"active": False}


async def test_an_invitation_is_used_once_and_expires(make_world: WorldFactory) -> None:
    world = await make_world()
    owner = await owner_of(world)
    link = await invite(world, owner, "ed@bakery.example", "editor")
    body = {"token": link, "name": "Ed", "password": PASSWORD}
    nameless = await world.client.post("/v1/invitations/accept", json=body | {"name": " "})
    assert nameless.status_code == 400  # a new person needs a name: the rule names the field
    assert nameless.json()["field"] == "name"
    assert nameless.json()["message"] == "name: must not be empty"
    first = await world.client.post("/v1/invitations/accept", json=body)
    assert first.status_code == 201, first.text
    again = await world.client.post("/v1/invitations/accept", json=body)
    assert again.status_code == 404
    assert again.json()["field"] == "token"

    people = world.components.people
    assert people is not None
    token = new_token(INVITATION_PREFIX)
    now = world.components.deps.clock.now()
    await people.store.insert_invitation(
        Invitation(
            invitation_id=token.token_id,
            business_id=world.business_id,
            email="late@bakery.example",
            role=Role.EDITOR,
            secret_hash=hash_secret(token.secret, world.components.deps.policy.pepper),
            invited_by="usr_test",
            created_at=now - timedelta(days=8),
            expires_at=now - timedelta(days=1),
        )
    )
    expired = await world.client.post(
        "/v1/invitations/accept", json={"token": token.full, "name": "Late", "password": PASSWORD}
    )
    assert expired.status_code == 404
    assert expired.json()["error"] == "invitation_not_usable"
    stored = await people.store.invitation(token.token_id)
    assert stored is not None
    assert stored.secret_hash != token.secret


async def test_sign_out_and_sign_out_everywhere(make_world: WorldFactory) -> None:
    world = await make_world()
    laptop = await owner_of(world)
    phone = await sign_in(world.client, "owner@bakery.example", PASSWORD)
    tablet = await sign_in(world.client, "owner@bakery.example", PASSWORD)

    out = await world.client.delete("/v1/session", headers=bearer(laptop))
    assert out.status_code == 204
    assert (await world.client.get("/v1/integrations", headers=bearer(laptop))).status_code == 401
    assert (await world.client.get("/v1/integrations", headers=bearer(phone))).status_code == 200

    everywhere = await world.client.post("/v1/session/sign-out-everywhere", headers=bearer(phone))
    assert everywhere.json() == {"revoked": 2}
    for token in (phone, tablet):
        assert (await world.client.get("/v1/session", headers=bearer(token))).status_code == 401
        assert (await introspect(world, token)) == {"active": False}


async def test_failed_sign_ins_are_limited_per_email_and_per_address(
    make_world: WorldFactory,
) -> None:
    limits = {"max_failures_per_email": 2, "max_failures_per_address": 3}
    world = await make_world(people=limits)
    await owner_of(world)
    wrong = {"email": "owner@bakery.example", "password": "not the password"}
    for _ in range(2):
        refused = await world.client.post("/v1/sessions", json=wrong)
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
    right = {"email": "owner@bakery.example", "password": PASSWORD}
    limited = await world.client.post("/v1/sessions", json=right)  # right, but too late
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"] == "too_many_attempts"
    assert limited.json()["retry_after_s"]

    # Another email from the same address: its own count is fresh, the address's is not.
    other = {"email": "nobody@bakery.example", "password": "not the password"}
    assert (await world.client.post("/v1/sessions", json=other)).status_code == 401
    assert (await world.client.post("/v1/sessions", json=other)).status_code == 429


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/sessions", {"email": "not-an-email", "password": "whatever"}, "email"),
        (
            "/v1/admin/businesses/{business}/users",
            {"email": "short@bakery.example", "name": "Short", "password": "short"},
            "password",
        ),
        (
            "/v1/admin/businesses/{business}/users",
            {"email": "blank@bakery.example", "name": "  ", "password": PASSWORD},
            "name",
        ),
    ],
)
async def test_bad_input_is_refused_naming_the_field_by_the_schema(
    make_world: WorldFactory, path: str, body: dict[str, str], field: str
) -> None:
    world = await make_world()
    answer = await world.client.post(
        path.format(business=world.business_id), json=body, headers=ADMIN
    )
    assert answer.status_code == 422, answer.text
    assert [v["path"] for v in answer.json()["violations"]] == [field]


async def test_an_invitation_is_no_way_around_the_failure_limits(make_world: WorldFactory) -> None:
    """Accepting with an existing account checks its password within sign-in's limits."""
    world = await make_world(people={"max_failures_per_email": 2})
    owner = await owner_of(world)
    link = await invite(world, owner, "owner@bakery.example", "editor")
    details = await world.client.post("/v1/invitations/inspect", json={"token": link})
    assert details.json()["has_account"]
    guess = {"token": link, "name": "", "password": "a guess at the password"}
    for _ in range(2):
        wrong = await world.client.post("/v1/invitations/accept", json=guess)
        assert wrong.status_code == 401
        assert wrong.json()["field"] == "password"
    right = await world.client.post("/v1/invitations/accept", json=guess | {"password": PASSWORD})
    assert right.status_code == 429
    signing_in = {"email": "owner@bakery.example", "password": PASSWORD}
    assert (await world.client.post("/v1/sessions", json=signing_in)).status_code == 429


async def test_a_person_in_two_businesses_names_one_at_sign_in(make_world: WorldFactory) -> None:
    world = await make_world()
    await owner_of(world)
    cafe = await world.client.post("/v1/admin/businesses", json={"name": "Cafe"}, headers=ADMIN)
    cafe_id = cafe.json()["business_id"]
    made = await world.client.post(
        f"/v1/admin/businesses/{cafe_id}/users",
        json={"email": "cafe@cafe.example", "name": "Cleo", "password": PASSWORD},
        headers=ADMIN,
    )
    assert made.status_code == 201, made.text
    cafe_owner = await sign_in(world.client, "cafe@cafe.example", PASSWORD)
    link = await invite(world, cafe_owner, "owner@bakery.example", "viewer")
    joined = await world.client.post(
        "/v1/invitations/accept", json={"token": link, "password": PASSWORD}
    )
    assert joined.status_code == 201, joined.text
    assert (joined.json()["business_id"], joined.json()["role"]) == (cafe_id, "viewer")

    both = {"email": "owner@bakery.example", "password": PASSWORD}
    ask = await world.client.post("/v1/sessions", json=both)
    assert ask.status_code == 400
    assert ask.json()["field"] == "business_id"
    assert sorted(ask.json()["choices"].split(",")) == sorted([world.business_id, cafe_id])
    assert f"{cafe_id} (Cafe)" in ask.json()["message"]
    named = await world.client.post("/v1/sessions", json=both | {"business_id": cafe_id})
    assert (named.json()["business_name"], named.json()["role"]) == ("Cafe", "viewer")
    other = await world.client.post("/v1/sessions", json=both | {"business_id": "biz_other"})
    assert other.status_code == 403
