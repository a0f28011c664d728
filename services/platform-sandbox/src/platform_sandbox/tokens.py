"""Access and refresh tokens of every platform, with the lifetimes and revocations they have.

A token is a random secret mapped to what it stands for. What makes one invalid differs by
platform and is decided where the platform's error is written (`graph_auth.py`,
`tiktok/auth.py`); this module only records facts: expiry, revocation and its reason, and which
token a Page token was derived from (it dies with its user token).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from platform_sandbox.ids import secret_token


class TokenKind(StrEnum):
    USER_SHORT = "user_short"
    USER_LONG = "user_long"
    PAGE = "page"
    SYSTEM_USER = "system_user"
    APP = "app"
    IG_SHORT = "ig_short"
    IG_LONG = "ig_long"
    TT_ACCESS = "tt_access"
    TT_REFRESH = "tt_refresh"


META_USER_KINDS = frozenset({TokenKind.USER_SHORT, TokenKind.USER_LONG})
INSTAGRAM_KINDS = frozenset({TokenKind.IG_SHORT, TokenKind.IG_LONG})
_PREFIX = {
    TokenKind.USER_SHORT: "EAAB",
    TokenKind.USER_LONG: "EAAB",
    TokenKind.PAGE: "EAAP",
    TokenKind.SYSTEM_USER: "EAAS",
    TokenKind.APP: "",
    TokenKind.IG_SHORT: "IGQV",
    TokenKind.IG_LONG: "IGAA",
    TokenKind.TT_ACCESS: "act.",
    TokenKind.TT_REFRESH: "rft.",
}


@dataclass(frozen=True)
class Token:
    value: str
    kind: TokenKind
    subject: str  # user, Page, system user, IG user id, or TikTok open_id
    app_id: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float | None
    assets: frozenset[str] = frozenset()  # what a business (system user) token was granted
    parent: str | None = None  # the user token a Page token was derived from
    pair: str | None = None  # TikTok: the refresh token issued with an access token
    revoked_subcode: int | None = None
    revoked: bool = False

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass
class TokenStore:
    _tokens: dict[str, Token] = field(default_factory=dict)

    def issue(
        self,
        kind: TokenKind,
        *,
        subject: str,
        app_id: str,
        scopes: frozenset[str],
        now: float,
        lifetime_s: float | None,
        assets: frozenset[str] = frozenset(),
        parent: str | None = None,
        value: str | None = None,
    ) -> Token:
        token = Token(
            value=value or secret_token(_PREFIX[kind]),
            kind=kind,
            subject=subject,
            app_id=app_id,
            scopes=scopes,
            issued_at=now,
            expires_at=None if lifetime_s is None else now + lifetime_s,
            assets=assets,
            parent=parent,
        )
        self._tokens[token.value] = token
        return token

    def get(self, value: str) -> Token | None:
        return self._tokens.get(value)

    def pair(self, access: Token, refresh: Token) -> Token:
        paired = replace(access, pair=refresh.value)
        self._tokens[access.value] = paired
        return paired

    def revoke(self, value: str, subcode: int | None = None) -> Token | None:
        token = self._tokens.get(value)
        if token is None:
            return None
        revoked = replace(token, revoked=True, revoked_subcode=subcode)
        self._tokens[value] = revoked
        return revoked

    def revoke_subject(self, subject: str, subcode: int | None = None) -> int:
        """Revoke every token of a person or creator (app removed, password changed)."""
        values = [t.value for t in self._tokens.values() if t.subject == subject]
        for value in values:
            self.revoke(value, subcode)
        return len(values)

    def expire(self, value: str, now: float) -> Token | None:
        token = self._tokens.get(value)
        if token is None:
            return None
        expired = replace(token, expires_at=now - 1)
        self._tokens[value] = expired
        return expired

    def drop_scope(self, subject: str, scope: str) -> None:
        for token in self.by_subject(subject):
            self._tokens[token.value] = replace(token, scopes=token.scopes - {scope})

    def by_subject(self, subject: str) -> list[Token]:
        return [t for t in self._tokens.values() if t.subject == subject]
