"""TikTok Login Kit v2 (platform-apis.md §4.1): authorize with PKCE (required: a request
without it, or a verifier for a code issued without it, is refused), token, refresh with
rotation (the old refresh token dies) or the legacy profile, revoke, OAuth error shape."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import httpx
import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
KEY, SECRET = "sbawsandboxclientkey", "sandbox-tiktok-client-secret"
REDIRECT = "http://127.0.0.1:8100/v1/oauth/tiktok/callback/"
TOKEN = "/open.tiktokapis.com/v2/oauth/token/"
VERIFIER = "a" * 64


def challenge(encoding: str) -> str:
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    if encoding == "hex":
        return digest.hex()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


PKCE = {"code_challenge": challenge("base64url"), "code_challenge_method": "S256"}


async def authorize(h: SandboxHarness, decision: str = "approve", **extra: str) -> httpx.URL:
    """The redirect an authorize request ends in; with PKCE unless `extra` says otherwise (an
    empty value leaves the parameter out)."""
    params = {
        "client_key": KEY,
        "scope": "user.info.basic,video.publish,video.upload",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "tt",
        "sandbox_decision": decision,
        **PKCE,
        **extra,
    }
    sent = {k: v for k, v in params.items() if v}
    response = await h.client.get("/www.tiktok.com/v2/auth/authorize/", params=sent)
    assert response.status_code == 302
    return httpx.URL(response.headers["location"])


async def token(h: SandboxHarness, **form: str) -> httpx.Response:
    return await h.client.post(TOKEN, data={"client_key": KEY, "client_secret": SECRET, **form})


async def code_exchange(
    h: SandboxHarness, code: str, verifier: str | None = VERIFIER, **extra: str
) -> httpx.Response:
    pkce = {"code_verifier": verifier} if verifier else {}
    return await token(
        h, code=code, grant_type="authorization_code", redirect_uri=REDIRECT, **pkce, **extra
    )


async def test_authorize_and_exchange(harness: SandboxHarness) -> None:
    url = await authorize(harness)
    assert url.params["scopes"] == "user.info.basic,video.publish,video.upload"
    body = (await code_exchange(harness, url.params["code"])).json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "open_id",
        "refresh_expires_in",
        "refresh_token",
        "scope",
        "token_type",
    }
    assert (body["expires_in"], body["refresh_expires_in"]) == (7200, 180 * 86400)
    assert body["open_id"] == harness.demo.tiktok_open_id
    assert body["access_token"].startswith("act.")


async def test_cancel_and_bad_requests(harness: SandboxHarness) -> None:
    cancelled = await authorize(harness, "cancel")
    assert cancelled.params["error"] == "access_denied"
    bad_redirect = await harness.client.get(
        "/www.tiktok.com/v2/auth/authorize/",
        params={"client_key": KEY, "response_type": "code", "redirect_uri": REDIRECT + "?x=1"},
    )
    assert bad_redirect.status_code == 400
    wrong_secret = await harness.client.post(
        TOKEN, data={"client_key": KEY, "client_secret": "x", "grant_type": "refresh_token"}
    )
    assert wrong_secret.status_code == 401
    assert set(wrong_secret.json()) == {"error", "error_description", "log_id"}
    assert wrong_secret.json()["error"] == "invalid_client"


async def test_rotation_kills_the_old_refresh_token(harness: SandboxHarness) -> None:
    first = (await code_exchange(harness, (await authorize(harness)).params["code"])).json()
    second = (
        await token(harness, grant_type="refresh_token", refresh_token=first["refresh_token"])
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = await token(harness, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
    third = await token(harness, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert third.status_code == 200


async def test_legacy_profile_keeps_the_refresh_token(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(tiktok={"token_profile": "legacy"})
    first = (await code_exchange(h, (await authorize(h)).params["code"])).json()
    assert (first["expires_in"], first["refresh_expires_in"]) == (86400, 365 * 86400)
    second = (
        await token(h, grant_type="refresh_token", refresh_token=first["refresh_token"])
    ).json()
    assert second["refresh_token"] == first["refresh_token"]
    assert second["access_token"] != first["access_token"]


@pytest.mark.parametrize("encoding", ["base64url", "hex"])
async def test_pkce(harness: SandboxHarness, encoding: str) -> None:
    extra = {"code_challenge": challenge(encoding), "code_challenge_method": "S256"}
    code = (await authorize(harness, **extra)).params["code"]
    missing = await code_exchange(harness, code, verifier=None)
    assert missing.json()["error"] == "invalid_request"
    wrong = await code_exchange(harness, code, verifier="b" * 64)
    assert wrong.json()["error"] == "invalid_grant"
    code = (await authorize(harness, **extra)).params["code"]
    right = await code_exchange(harness, code, verifier=VERIFIER)
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("pkce", "description"),
    [
        ({"code_challenge": "", "code_challenge_method": ""}, "code_challenge is required."),
        ({"code_challenge_method": ""}, "code_challenge_method must be S256."),
        ({"code_challenge": VERIFIER, "code_challenge_method": "plain"}, "must be S256."),
    ],
    ids=["no-challenge", "no-method", "plain"],
)
async def test_an_authorize_request_without_s256_pkce_is_refused(
    harness: SandboxHarness, pkce: dict[str, str], description: str
) -> None:
    """A downgrade: the challenge stripped from (or weakened in) the authorize URL. TikTok
    answers on the redirect, as OAuth does once the redirect URI is known good."""
    url = await authorize(harness, **pkce)
    assert url.params["error"] == "invalid_request"
    assert url.params["error_description"].endswith(description)
    assert url.params["state"] == "tt"
    assert "code" not in url.params


async def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    """Where PKCE is optional (`require_pkce` off), a code issued without a challenge still
    refuses a verifier: the client meant PKCE, so someone removed the challenge on the way."""
    h = make_harness(tiktok={"require_pkce": False})
    plain = {"code_challenge": "", "code_challenge_method": ""}
    downgraded = (await authorize(h, **plain)).params["code"]
    refused = await code_exchange(h, downgraded, verifier=VERIFIER)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")
    assert "no code_challenge" in refused.json()["error_description"]
    without = (await authorize(h, **plain)).params["code"]
    assert (await code_exchange(h, without, verifier=None)).status_code == 200


async def test_codes_are_single_use_and_expire(harness: SandboxHarness) -> None:
    code = (await authorize(harness)).params["code"]
    assert (await code_exchange(harness, code)).status_code == 200
    assert (await code_exchange(harness, code)).json()["error"] == "invalid_grant"
    late = (await authorize(harness)).params["code"]
    harness.sandbox.clock.advance(601)
    assert (await code_exchange(harness, late)).json()["error"] == "invalid_grant"


async def test_an_expired_refresh_token_is_invalid_grant(harness: SandboxHarness) -> None:
    first = (await code_exchange(harness, (await authorize(harness)).params["code"])).json()
    harness.sandbox.clock.advance(180 * 86400 + 1)
    late = await token(harness, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert late.json()["error"] == "invalid_grant"


async def test_revoke_ends_the_authorization(harness: SandboxHarness) -> None:
    tokens = (await code_exchange(harness, (await authorize(harness)).params["code"])).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = "/open.tiktokapis.com/v2/user/info/?fields=open_id"
    assert (await harness.client.get(info, headers=headers)).status_code == 200
    revoked = await harness.client.post(
        "/open.tiktokapis.com/v2/oauth/revoke/",
        data={"client_key": KEY, "client_secret": SECRET, "token": tokens["access_token"]},
    )
    assert (revoked.status_code, revoked.json()) == (200, {})
    after = await harness.client.get(info, headers=headers)
    assert (after.status_code, after.json()["error"]["code"]) == (401, "access_token_invalid")
    refresh = await token(
        harness, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.json()["error"] == "invalid_grant"
