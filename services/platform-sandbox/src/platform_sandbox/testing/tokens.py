"""A token source for tests against a served sandbox: what auth-service would hand a publisher,
minted by the sandbox itself (`POST /_sandbox/tokens`), so that its platform APIs accept it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from herald.runtime.ports import Credentials
from platform_sandbox.provisioning import DemoWorld

SYSTEM_USER = "herald-system-user"


@dataclass(frozen=True)
class Grant:
    """What to mint for an integration (a token `kind` for `subject`), and the account that its
    credentials name."""

    kind: str
    subject: str
    account_id: str
    account: dict[str, str]
    assets: tuple[str, ...] = ()


def facebook_grant(demo: DemoWorld) -> Grant:
    """The demo Page's token."""
    return Grant("page", demo.page_id, demo.page_id, {"page_id": demo.page_id})


def instagram_grant(demo: DemoWorld) -> Grant:
    """Instagram with Facebook login publishes with the Page's token, as the demo account."""
    return Grant("page", demo.page_id, demo.ig_user_id, {"ig_user_id": demo.ig_user_id})


def whatsapp_grant(demo: DemoWorld) -> Grant:
    """A system-user token for the demo WABA, sending from its number."""
    account = {"phone_number_id": demo.phone_number_id, "waba_id": demo.waba_id}
    return Grant("system_user", SYSTEM_USER, demo.phone_number_id, account, (demo.waba_id,))


def tiktok_grant(open_id: str) -> Grant:
    """A creator's access token."""
    return Grant("tt_access", open_id, open_id, {"open_id": open_id})


@dataclass
class SandboxTokens:
    """A `TokenSource` minting one token per integration from the sandbox at `url`, by its grant
    in `grants` (else `default`); `refresh` mints a new one, as auth-service would. Each call has
    an HTTP client of its own, so it works from whichever event loop the app runs in."""

    url: str
    default: Grant | None = None
    grants: dict[str, Grant] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    refreshes: dict[str, int] = field(default_factory=dict)

    async def get(self, integration_id: str, business_id: str) -> Credentials:
        if integration_id not in self.current:
            await self._mint(integration_id)
        return self._credentials(integration_id)

    async def refresh(self, integration_id: str, business_id: str) -> Credentials:
        self.refreshes[integration_id] = self.refreshes.get(integration_id, 0) + 1
        await self._mint(integration_id)
        return self._credentials(integration_id)

    async def expire(self, integration_id: str) -> None:
        """The platform stops accepting the integration's current token."""
        token = (await self.get(integration_id, "")).access_token
        await self._admin("/tokens/expire", {"token": token})

    def grant(self, integration_id: str) -> Grant:
        grant = self.grants.get(integration_id, self.default)
        if grant is None:
            msg = f"no grant for integration {integration_id!r}"
            raise KeyError(msg)
        return grant

    async def _mint(self, integration_id: str) -> None:
        grant = self.grant(integration_id)
        body = {"kind": grant.kind, "subject": grant.subject, "assets": list(grant.assets)}
        self.current[integration_id] = str((await self._admin("/tokens", body))["access_token"])

    def _credentials(self, integration_id: str) -> Credentials:
        grant = self.grant(integration_id)
        return Credentials(self.current[integration_id], grant.account_id, dict(grant.account))

    async def _admin(self, path: str, body: Mapping[str, object]) -> dict[str, object]:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(f"{self.url}/_sandbox{path}", json=body)
            response.raise_for_status()
            answer: dict[str, object] = response.json()
            return answer
