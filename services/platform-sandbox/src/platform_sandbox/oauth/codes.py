"""Authorization codes: single use, short-lived, bound to the redirect URI they were issued for."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from platform_sandbox.ids import secret_token


class CodeFlow(StrEnum):
    FACEBOOK_USER = "facebook_user"
    FACEBOOK_BUSINESS = "facebook_business"  # Login for Business / Embedded Signup: a BISU token
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"


@dataclass
class AuthCode:
    code: str
    flow: CodeFlow
    client_id: str
    redirect_uri: str | None
    subject: str
    scopes: frozenset[str]
    expires_at: float
    assets: frozenset[str] = frozenset()
    code_challenge: str | None = None
    used: bool = False


@dataclass
class CodeStore:
    _codes: dict[str, AuthCode] = field(default_factory=dict)

    def issue(
        self,
        flow: CodeFlow,
        *,
        client_id: str,
        redirect_uri: str | None,
        subject: str,
        scopes: frozenset[str],
        expires_at: float,
        assets: frozenset[str] = frozenset(),
        code_challenge: str | None = None,
    ) -> AuthCode:
        prefix = {CodeFlow.TIKTOK: "", CodeFlow.INSTAGRAM: "AQ"}.get(flow, "AQD")
        code = AuthCode(
            secret_token(prefix, 48),
            flow,
            client_id,
            redirect_uri,
            subject,
            scopes,
            expires_at,
            assets,
            code_challenge,
        )
        self._codes[code.code] = code
        return code

    def get(self, code: str) -> AuthCode | None:
        return self._codes.get(code)
