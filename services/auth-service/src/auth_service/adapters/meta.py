"""Facebook Pages and WhatsApp (Embedded Signup) behind Facebook Login (platform-apis.md §1.1,
§3.1).

Facebook: code → short-lived user token → long-lived user token → `/me/accounts` gives each
Page and its token; one integration per Page. A Page token derived from a long-lived user token
has no expiry but dies with that user token, so a refresh renews the user token
(`fb_exchange_token`) and derives the Page token again; in between, `debug_token` checks it.

WhatsApp: the Embedded Signup code → a business-integration system-user token (no expiry);
`debug_token`'s granular scopes name the WABAs, `/{waba}/phone_numbers` the numbers; one
integration per number; the app subscribes to each WABA's webhooks. Checked, never refreshed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth_service.adapters.graph import LongLived, MetaApp
from auth_service.domain import (
    AuthServer,
    DiscoveredAccount,
    Integration,
    RefreshMode,
    SecretField,
    TokenGrant,
)
from auth_service.ports import AuthorizeRequest
from herald.errors import NeedsReauth, Permanent
from herald.topics import Platform


async def granted_scopes(app: MetaApp, user_token: str) -> tuple[str, ...]:
    body = await app.get("me/permissions", user_token)
    return tuple(
        sorted(
            str(p["permission"])
            for p in body.get("data", [])
            if isinstance(p, dict) and p.get("status") == "granted"
        )
    )


async def user_login(
    app: MetaApp, code: str, redirect_uri: str, verifier: str | None
) -> tuple[LongLived, dict[str, Any], tuple[str, ...]]:
    """The long-lived user token a Facebook Login code stands for, who it is, and its scopes."""
    short = await app.exchange_code(code, redirect_uri, verifier)
    long = await app.long_lived(short.token)
    me = await app.get("me", long.token, {"fields": "id,name"})
    return long, me, await granted_scopes(app, long.token)


async def refresh_page_token(app: MetaApp, integration: Integration, user_token: str) -> TokenGrant:
    """A fresh long-lived user token, then the Page token derived from it."""
    long = await app.long_lived(user_token)
    page_id = integration.account.get("page_id", integration.account_id)
    page = await app.get(page_id, long.token, {"fields": "access_token"})
    access = str(page.get("access_token") or "")
    if not access:
        msg = "the person no longer has a role on this Page"
        raise NeedsReauth(msg, code="no_page_token")
    return TokenGrant(
        access_token=access,
        expires_at=None,
        user_token=long.token,
        user_expires_at=long.expires_at,
    )


async def check_token(app: MetaApp, token: str) -> None:
    data = await app.debug(token)
    if not data.get("is_valid"):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        message = str((error or {}).get("message") or "the token is no longer valid")
        raise NeedsReauth(message, code=str((error or {}).get("code", "190")))


async def revoke_user(app: MetaApp, integration: Integration, user_token: str) -> bool:
    """`DELETE /{user-id}/permissions`: removes the app for the person (every token dies)."""
    user_id = integration.provider_user_id or "me"
    body = await app.call("DELETE", f"{user_id}/permissions", user_token, {})
    return bool(body.get("success", True))


class FacebookGateway:
    platform = Platform.FACEBOOK

    def __init__(self, app: MetaApp, scopes: list[str], pkce: bool) -> None:
        self._app = app
        self._scopes = scopes
        self._pkce = pkce

    def auth_servers(self) -> tuple[AuthServer, ...]:
        return (AuthServer.FACEBOOK,)

    def uses_pkce(self, auth_server: AuthServer) -> bool:
        del auth_server
        return self._pkce

    def authorize_url(self, request: AuthorizeRequest) -> str:
        return self._app.dialog(
            state=request.state,
            redirect_uri=request.redirect_uri,
            scopes=self._scopes,
            code_challenge=request.code_challenge,
        )

    async def connect(
        self, *, auth_server: AuthServer, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[DiscoveredAccount]:
        del auth_server
        long, me, scopes = await user_login(self._app, code, redirect_uri, code_verifier)
        pages = await self._app.paged("me/accounts", long.token, "id,name,access_token,tasks")
        return [
            DiscoveredAccount(
                platform=Platform.FACEBOOK,
                account_id=str(page["id"]),
                account_name=page.get("name"),
                account={"page_id": str(page["id"])},
                scopes=scopes,
                mode=RefreshMode.EXCHANGE,
                auth_server=AuthServer.FACEBOOK,
                provider_user_id=str(me.get("id")) if me.get("id") else None,
                tokens={
                    SecretField.ACCESS: str(page["access_token"]),
                    SecretField.USER: long.token,
                },
                user_expires_at=long.expires_at,
            )
            for page in pages
            if page.get("access_token") and page.get("id")
        ]

    async def refresh(
        self, integration: Integration, tokens: Mapping[SecretField, str]
    ) -> TokenGrant:
        return await refresh_page_token(self._app, integration, tokens[SecretField.USER])

    async def check(self, integration: Integration, tokens: Mapping[SecretField, str]) -> None:
        del integration
        await check_token(self._app, tokens[SecretField.ACCESS])

    async def revoke(self, integration: Integration, tokens: Mapping[SecretField, str]) -> bool:
        user_token = tokens.get(SecretField.USER)
        return bool(user_token) and await revoke_user(self._app, integration, user_token or "")


class WhatsAppGateway:
    platform = Platform.WHATSAPP

    def __init__(self, app: MetaApp, scopes: list[str], config_id: str) -> None:
        self._app = app
        self._scopes = scopes
        self._config_id = config_id

    def auth_servers(self) -> tuple[AuthServer, ...]:
        return (AuthServer.FACEBOOK,)

    def uses_pkce(self, auth_server: AuthServer) -> bool:
        del auth_server
        return False

    def authorize_url(self, request: AuthorizeRequest) -> str:
        return self._app.dialog(
            state=request.state,
            redirect_uri=request.redirect_uri,
            scopes=self._scopes,
            code_challenge=None,
            config_id=self._config_id,
        )

    async def connect(
        self, *, auth_server: AuthServer, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[DiscoveredAccount]:
        del auth_server, code_verifier
        business = await self._app.exchange_code(code, redirect_uri, None)
        info = await self._app.debug(business.token)
        if not info.get("is_valid"):
            msg = "the business token from Embedded Signup is not valid"
            raise NeedsReauth(msg, code="invalid_business_token")
        scopes = tuple(sorted(str(s) for s in info.get("scopes", [])))
        found: list[DiscoveredAccount] = []
        for waba_id in _waba_ids(info):
            numbers = await self._app.paged(
                f"{waba_id}/phone_numbers", business.token, "id,display_phone_number,verified_name"
            )
            await self._app.call("POST", f"{waba_id}/subscribed_apps", business.token, {})
            found.extend(
                _number(n, waba_id, scopes, business, info) for n in numbers if n.get("id")
            )
        return found

    async def refresh(
        self, integration: Integration, tokens: Mapping[SecretField, str]
    ) -> TokenGrant:
        """System-user tokens are not refreshable: check instead, keep the token."""
        await self.check(integration, tokens)
        return TokenGrant(access_token=tokens[SecretField.ACCESS], expires_at=None)

    async def check(self, integration: Integration, tokens: Mapping[SecretField, str]) -> None:
        del integration
        await check_token(self._app, tokens[SecretField.ACCESS])

    async def revoke(self, integration: Integration, tokens: Mapping[SecretField, str]) -> bool:
        """A business token is withdrawn in Business Manager; Graph has no revoke call."""
        del integration, tokens
        return False

    async def message_templates(self, integration: Integration, token: str) -> list[dict[str, Any]]:
        """The WABA's templates as Graph lists them (`/{waba-id}/message_templates`)."""
        waba_id = integration.account.get("waba_id")
        if not waba_id:
            msg = f"integration {integration.id} has no WhatsApp Business Account id"
            raise Permanent(msg, code="no_waba")
        return await self._app.paged(
            f"{waba_id}/message_templates", token, "name,language,status,category,components"
        )


def _waba_ids(info: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for grant in info.get("granular_scopes", []):
        if isinstance(grant, dict) and grant.get("scope") == "whatsapp_business_management":
            ids.extend(str(t) for t in grant.get("target_ids", []) if str(t) not in ids)
    return ids


def _number(
    number: dict[str, Any],
    waba_id: str,
    scopes: tuple[str, ...],
    business: LongLived,
    info: dict[str, Any],
) -> DiscoveredAccount:
    display = str(number.get("display_phone_number") or "")
    return DiscoveredAccount(
        platform=Platform.WHATSAPP,
        account_id=str(number["id"]),
        account_name=str(number.get("verified_name") or display) or None,
        account={
            "phone_number_id": str(number["id"]),
            "waba_id": waba_id,
            "display_phone_number": display,
        },
        scopes=scopes,
        mode=RefreshMode.CHECK,
        auth_server=AuthServer.FACEBOOK,
        provider_user_id=str(info["user_id"]) if info.get("user_id") else None,
        tokens={SecretField.ACCESS: business.token},
        expires_at=business.expires_at,
    )
