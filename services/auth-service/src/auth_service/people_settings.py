"""Settings of console users and their sessions (`HERALD_AUTH_PEOPLE__...`; ADR 0024)."""

from __future__ import annotations

from pydantic import Field

from auth_service.platform_settings import Section


class PeopleSettings(Section):
    session_ttl_s: int = Field(
        default=8 * 3600, ge=300, le=30 * 86400, description="How long a sign-in lasts."
    )
    invitation_ttl_s: int = Field(
        default=7 * 86400, ge=600, le=30 * 86400, description="How long an invitation link works."
    )
    failure_window_s: int = Field(
        default=900, ge=60, description="Failed sign-ins are counted over this window."
    )
    max_failures_per_email: int = Field(
        default=5, ge=1, description="Failed sign-ins for one email within the window."
    )
    max_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one client address within the window (behind the "
        "console, the browser's: uvicorn takes it from X-Forwarded-For sent by an address in "
        "FORWARDED_ALLOW_IPS, loopback by default).",
    )
