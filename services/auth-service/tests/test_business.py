"""The business's own settings on the real store: its time zone, read by anyone in it (key or
session), changed by an owner's session only, refused by name when it is not an IANA zone, and
shown where a session says who it is for."""

from __future__ import annotations

import pytest

from auth_service.testing import ADMIN_TOKEN, World, WorldFactory

pytestmark = pytest.mark.connected

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PASSWORD = "a long enough password"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def owner_of(world: World) -> str:
    made = await world.client.post(
        f"/v1/admin/businesses/{world.business_id}/users",
        json={"email": "owner@bakery.example", "name": "Olga Owner", "password": PASSWORD},
        headers=ADMIN,
    )
    assert made.status_code == 201, made.text
    signed = await world.client.post(
        "/v1/sessions", json={"email": "owner@bakery.example", "password": PASSWORD}
    )
    assert signed.status_code == 201, signed.text
    token: str = signed.json()["token"]
    return token


async def editor_of(world: World, owner: str) -> str:
    made = await world.client.post(
        "/v1/team/invitations",
        json={"email": "ed@bakery.example", "role": "editor"},
        headers=bearer(owner),
    )
    link = made.json()["token"]
    joined = await world.client.post(
        "/v1/invitations/accept", json={"token": link, "name": "Ed", "password": PASSWORD}
    )
    assert joined.status_code == 201, joined.text
    token: str = joined.json()["token"]
    return token


async def test_an_owner_sets_the_zone_and_every_reader_sees_it(make_world: WorldFactory) -> None:
    world = await make_world()
    owner = await owner_of(world)
    before = await world.client.get("/v1/business", headers=bearer(world.key))
    assert before.status_code == 200, before.text
    assert before.json() == {"business_id": world.business_id, "name": "Bakery", "timezone": None}

    changed = await world.client.patch(
        "/v1/business", json={"timezone": "Europe/Berlin"}, headers=bearer(owner)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["timezone"] == "Europe/Berlin"

    read = await world.client.get("/v1/business", headers=bearer(owner))
    assert read.json()["timezone"] == "Europe/Berlin"
    me = await world.client.get("/v1/session", headers=bearer(owner))
    assert me.json()["business_timezone"] == "Europe/Berlin"
    again = await world.client.post(
        "/v1/sessions", json={"email": "owner@bakery.example", "password": PASSWORD}
    )
    assert again.json()["business_timezone"] == "Europe/Berlin"


async def test_a_zone_that_is_not_iana_is_refused_at_its_field(make_world: WorldFactory) -> None:
    world = await make_world()
    owner = await owner_of(world)
    for wrong in ("Mars/Olympus_Mons", "CEST+2", "../etc/passwd"):
        refused = await world.client.patch(
            "/v1/business", json={"timezone": wrong}, headers=bearer(owner)
        )
        assert refused.status_code == 422, refused.text
        (violation,) = refused.json()["violations"]
        assert violation["path"] == "timezone", violation
        assert "IANA" in violation["message"]
    kept = await world.client.get("/v1/business", headers=bearer(owner))
    assert kept.json()["timezone"] is None


async def test_only_an_owner_changes_it(make_world: WorldFactory) -> None:
    world = await make_world()
    owner = await owner_of(world)
    editor = await editor_of(world, owner)

    refused = await world.client.patch(
        "/v1/business", json={"timezone": "Asia/Tokyo"}, headers=bearer(editor)
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "not_an_owner"
    by_key = await world.client.patch(
        "/v1/business", json={"timezone": "Asia/Tokyo"}, headers=bearer(world.key)
    )
    assert by_key.status_code == 401, by_key.text
    read = await world.client.get("/v1/business", headers=bearer(editor))
    assert read.status_code == 200
    assert read.json()["timezone"] is None


async def test_an_operator_creates_a_business_with_its_zone(make_world: WorldFactory) -> None:
    world = await make_world()
    made = await world.client.post(
        "/v1/admin/businesses", json={"name": "Café", "timezone": "Europe/Paris"}, headers=ADMIN
    )
    assert made.status_code == 201, made.text
    assert made.json()["timezone"] == "Europe/Paris"
    bad = await world.client.post(
        "/v1/admin/businesses", json={"name": "Café", "timezone": "Paris"}, headers=ADMIN
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["violations"][0]["path"] == "timezone"
