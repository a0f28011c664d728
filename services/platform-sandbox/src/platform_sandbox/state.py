"""Everything the sandbox remembers, in memory, and the one place that forgets it (`reset`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from platform_sandbox.accounts import Accounts
from platform_sandbox.facebook.model import FacebookStore
from platform_sandbox.ids import IdFactory
from platform_sandbox.instagram.model import InstagramStore
from platform_sandbox.oauth.codes import CodeStore
from platform_sandbox.tiktok.model import TikTokStore
from platform_sandbox.tokens import TokenStore
from platform_sandbox.whatsapp.model import WhatsAppStore


@dataclass
class SandboxState:
    ids: IdFactory = field(default_factory=IdFactory)
    accounts: Accounts = field(default_factory=Accounts)
    tokens: TokenStore = field(default_factory=TokenStore)
    codes: CodeStore = field(default_factory=CodeStore)
    facebook: FacebookStore = field(default_factory=FacebookStore)
    instagram: InstagramStore = field(default_factory=InstagramStore)
    whatsapp: WhatsAppStore = field(default_factory=WhatsAppStore)
    tiktok: TikTokStore = field(default_factory=TikTokStore)
    tiktok_verified_prefixes: list[str] = field(default_factory=list)

    def reset(self) -> None:
        fresh = SandboxState()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))
