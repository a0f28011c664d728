"""Tokens for tests without a login: mint one of any kind, expire it, revoke it (with Graph's
subcode: 458 app removed, 460 password changed, 492 Page role lost, ...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from platform_sandbox.oauth.facebook import BUSINESS_SCOPES
from platform_sandbox.oauth.tiktok import PROFILES
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tokens import TokenKind

_DEFAULT_SCOPES = {
    TokenKind.IG_SHORT: [
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_insights",
    ],
    TokenKind.IG_LONG: [
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_insights",
    ],
    TokenKind.TT_ACCESS: [
        "user.info.basic",
        "user.info.profile",
        "user.info.stats",
        "video.list",
        "video.upload",
        "video.publish",
    ],
}


class Mint(BaseModel):
    model_config = {"extra": "forbid"}
    kind: TokenKind
    subject: str = Field(description="User, Page, system user, Instagram account or open_id.")
    scopes: list[str] | None = None
    lifetime_s: float | None = Field(default=None, description="null: the kind's default.")
    assets: list[str] = Field(default_factory=list, description="WABAs of a system user token.")


class Target(BaseModel):
    model_config = {"extra": "forbid"}
    token: str | None = None
    subject: str | None = None
    subcode: int | None = None


def _lifetime(sandbox: Sandbox, kind: TokenKind) -> float | None:
    meta, ig = sandbox.settings.meta, sandbox.settings.instagram
    return {
        TokenKind.USER_SHORT: float(meta.short_lived_user_token_s),
        TokenKind.USER_LONG: float(meta.long_lived_user_token_s),
        TokenKind.IG_SHORT: float(ig.short_lived_token_s),
        TokenKind.IG_LONG: float(ig.long_lived_token_s),
        TokenKind.TT_ACCESS: float(PROFILES[sandbox.settings.tiktok.token_profile][0]),
    }.get(kind)


def _app_id(sandbox: Sandbox, kind: TokenKind) -> str:
    if kind in (TokenKind.IG_SHORT, TokenKind.IG_LONG):
        return sandbox.settings.instagram.app_id
    if kind is TokenKind.TT_ACCESS:
        return sandbox.settings.tiktok.client_key
    return sandbox.settings.meta.app_id


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/tokens", tags=["sandbox: tokens"])
    _minting(api, sandbox)
    _ending(api, sandbox)
    return api


def _minting(api: APIRouter, sandbox: Sandbox) -> None:

    @api.post("", status_code=201)
    async def mint(body: Mint) -> dict[str, Any]:
        if body.kind in (TokenKind.APP, TokenKind.TT_REFRESH):
            raise HTTPException(400, "mint a tt_access token to get its refresh token")
        scopes = frozenset(
            body.scopes
            if body.scopes is not None
            else _DEFAULT_SCOPES.get(body.kind, BUSINESS_SCOPES)
        )
        now, store = sandbox.clock.now(), sandbox.state.tokens
        app_id = _app_id(sandbox, body.kind)
        lifetime = body.lifetime_s if body.lifetime_s is not None else _lifetime(sandbox, body.kind)
        token = store.issue(
            body.kind,
            subject=body.subject,
            app_id=app_id,
            scopes=scopes,
            now=now,
            lifetime_s=lifetime,
            assets=frozenset(body.assets),
        )
        answer: dict[str, Any] = {
            "access_token": token.value,
            "kind": token.kind.value,
            "expires_at": token.expires_at,
        }
        if body.kind is TokenKind.TT_ACCESS:
            refresh = store.issue(
                TokenKind.TT_REFRESH,
                subject=body.subject,
                app_id=app_id,
                scopes=scopes,
                now=now,
                lifetime_s=float(PROFILES[sandbox.settings.tiktok.token_profile][1]),
            )
            store.pair(token, refresh)
            answer["refresh_token"] = refresh.value
        return answer


def _ending(api: APIRouter, sandbox: Sandbox) -> None:
    @api.post("/expire")
    async def expire(body: Target) -> dict[str, Any]:
        if (
            body.token is None
            or sandbox.state.tokens.expire(body.token, sandbox.clock.now()) is None
        ):
            raise HTTPException(404, "no such token")
        return {"expired": True}

    @api.post("/revoke")
    async def revoke(body: Target) -> dict[str, Any]:
        store = sandbox.state.tokens
        if body.subject is not None:
            return {"revoked": store.revoke_subject(body.subject, body.subcode)}
        if body.token is None or store.revoke(body.token, body.subcode) is None:
            raise HTTPException(404, "no such token")
        return {"revoked": 1}
