"""Hostile callbacks are refused before any token endpoint is called (security-reliability.md
§1.4): missing, unknown, replayed, expired, cross-business and cross-provider state, a second
redemption of a code, a provider's error redirect, and more."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from bson import json_util
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.adapters.codec import sealed_from
from auth_service.domain import digest
from auth_service.handlers.keys import create_api_key, create_business
from auth_service.handlers.oauth import verifier_context
from auth_service.testing import World, WorldFactory, recorder, through_start_link
from herald.mongo import Document

pytestmark = pytest.mark.connected


async def _callback(
    world: World, provider: str, query: dict[str, str], headers: dict[str, str] | None = None
) -> Any:
    return await world.client.get(
        f"/v1/oauth/{provider}/callback",
        params=query,
        headers={"Accept": "application/json"} | (headers or {}),
    )


async def _refused(
    world: World, provider: str, query: dict[str, str], code: str, **kw: Any
) -> None:
    before = len(recorder(world.components).token_calls())
    response = await _callback(world, provider, query, **kw)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert len(recorder(world.components).token_calls()) == before, "a token endpoint was called"


async def test_missing_state(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("tiktok")
    await _refused(world, "tiktok", {"code": query["code"]}, "missing_state")


async def test_unknown_state(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("tiktok")
    await _refused(world, "tiktok", query | {"state": "A" * 43}, "invalid_state")


async def test_oversized_state(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("tiktok")
    await _refused(world, "tiktok", query | {"state": query["state"] * 4}, "invalid_state")


async def test_truncated_state(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("facebook")
    await _refused(world, "facebook", query | {"state": query["state"][:-1]}, "invalid_state")


async def test_replayed_state_after_success(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("tiktok")
    assert (await _callback(world, "tiktok", query)).status_code == 200
    await _refused(world, "tiktok", query, "invalid_state")


async def test_state_reused_after_an_error_callback(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("tiktok")
    denied = {"state": query["state"], "error": "access_denied"}
    await _refused(world, "tiktok", denied, "provider_error")
    await _refused(world, "tiktok", query, "invalid_state")


async def test_expired_state(make_world: WorldFactory, mongo_db: AsyncDatabase[Document]) -> None:
    world = await make_world()
    query = await world.authorize("tiktok")
    record = await world.components.deps.states.get(digest(query["state"]))
    assert record is not None
    assert record.expires_at - record.created_at == timedelta(minutes=10)
    # Eleven minutes later, as far as the stored state is concerned.
    earlier = {"created_at": record.created_at - timedelta(minutes=11)}
    earlier["expires_at"] = earlier["created_at"] + timedelta(minutes=10)
    await mongo_db["oauth_states"].update_one({"_id": record.state_hash}, {"$set": earlier})
    await _refused(world, "tiktok", query, "state_expired")


async def test_state_of_another_business(make_world: WorldFactory) -> None:
    world = await make_world()
    other = await create_business(world.components.deps, "Other")
    other_key = (await create_api_key(world.components.deps, other.id, "k")).key
    query = await world.authorize("tiktok")
    headers = {"Authorization": f"Bearer {other_key}"}
    await _refused(world, "tiktok", query, "state_business_mismatch", headers=headers)


async def test_state_of_another_provider(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("tiktok")
    await _refused(world, "facebook", query, "state_provider_mismatch")


async def test_meta_state_on_the_instagram_path(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("whatsapp")
    await _refused(world, "instagram", query, "state_provider_mismatch")


async def test_second_redemption_of_a_code(make_world: WorldFactory) -> None:
    world = await make_world()
    first = await world.authorize("tiktok")
    assert (await _callback(world, "tiktok", first)).status_code == 200
    second = await world.authorize("tiktok")
    await _refused(world, "tiktok", second | {"code": first["code"]}, "code_replayed")


async def test_provider_error_callback(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("facebook", sandbox_decision="cancel")
    assert query["error"] == "access_denied"
    await _refused(world, "facebook", query, "provider_error")


async def test_missing_code(make_world: WorldFactory) -> None:
    world = await make_world()
    query = await world.authorize("instagram")
    await _refused(world, "instagram", {"state": query["state"]}, "missing_code")


async def test_no_parameters_at_all(make_world: WorldFactory) -> None:
    world = await make_world()
    await _refused(world, "whatsapp", {}, "missing_state")


async def test_refusals_render_a_page_without_referrer(make_world: WorldFactory) -> None:
    world = await make_world()
    response = await world.client.get("/v1/oauth/tiktok/callback", params={"state": "x"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "invalid_state" in response.text


async def test_state_has_256_bits_and_tiktok_gets_pkce(make_world: WorldFactory) -> None:
    world = await make_world()
    started = await world.client.get("/v1/oauth/tiktok/connect", headers=world.auth)
    url = str(await through_start_link(world.client, started.json()["authorize_url"]))
    params = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    assert len(params["state"]) >= 43  # 32 random bytes, base64url
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43


async def test_herald_passes_the_sandboxs_strict_pkce_and_would_fail_without_it(
    make_world: WorldFactory,
) -> None:
    """The sandbox refuses a TikTok authorize request without an S256 challenge, as TikTok does
    for these apps; Herald's flow sends one (the connect above succeeds), and with PKCE turned
    off it would come back refused before any token call."""
    world = await make_world()
    assert len(await world.connect("tiktok")) == 1
    lax = await make_world(tiktok={"pkce": False})
    query = await lax.authorize("tiktok")
    assert (query["error"], query["error_description"]) == (
        "invalid_request",
        "code_challenge is required.",
    )
    await _refused(lax, "tiktok", query, "provider_error")


async def _challenge_of(world: World, start_url: str) -> str:
    return str((await through_start_link(world.client, start_url)).params["code_challenge"])


async def test_the_pkce_verifier_is_sealed_bound_to_its_state_and_gone_once_used(
    make_world: WorldFactory, mongo_db: AsyncDatabase[Document]
) -> None:
    """Issue 19, finding 8: the verifier was stored in plain text in `oauth_states`. It is a
    vault envelope now, bound to its state (a copy on another state does not open), and the
    state is deleted when its callback spends it."""
    world = await make_world()
    started = await world.client.get("/v1/oauth/tiktok/connect", headers=world.auth)
    challenge = await _challenge_of(world, started.json()["authorize_url"])
    (doc,) = await mongo_db["oauth_states"].find({}).to_list()
    assert set(doc["verifier"]) == {"v", "kid", "nonce", "ct"}
    assert "code_verifier" not in doc
    deps = world.components.deps
    verifier = deps.vault.open(
        sealed_from(doc["verifier"]), verifier_context(world.business_id, doc["_id"])
    )
    hashed = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(hashed).decode().rstrip("=") == challenge
    assert verifier not in json_util.dumps(doc)

    # The envelope copied onto another state of the same business does not open there.
    query = await world.authorize("tiktok")
    other = digest(query["state"])
    await mongo_db["oauth_states"].update_one(
        {"_id": other}, {"$set": {"verifier": doc["verifier"]}}
    )
    await _refused(world, "tiktok", query, "invalid_state")

    third = await world.authorize("tiktok")
    assert (await _callback(world, "tiktok", third)).status_code == 200
    assert await mongo_db["oauth_states"].find_one({"_id": digest(third["state"])}) is None
