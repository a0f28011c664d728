"""The JSON bodies of console users' routes (ADR 0024)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from auth_service.api.schemas import _Body
from auth_service.domain import known_timezone
from auth_service.people import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    NAME_MAX,
    NAME_PATTERN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    Role,
)

# The document states the rules `auth_service.people` applies, so that a schema-valid body is
# never refused by them.
EMAIL = EMAIL_PATTERN


class SignIn(_Body):
    email: str = Field(min_length=1, max_length=EMAIL_MAX, pattern=EMAIL)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    business_id: str | None = Field(
        default=None,
        max_length=64,
        description="Needed only when the person belongs to several businesses.",
    )


class SessionView(BaseModel):
    session_id: str
    user_id: str
    email: str
    name: str
    business_id: str
    business_name: str
    business_timezone: str | None = Field(
        description="The business's IANA time zone (`GET/PATCH /v1/business`); null: none set."
    )
    role: Role
    expires_at: AwareDatetime


class IssuedSession(SessionView):
    token: str = Field(description="`hs_<id>_<secret>`: the bearer for both APIs; shown once.")


class SignedOutEverywhere(BaseModel):
    revoked: int = Field(description="How many sessions ended, this one included.")


class NewInvitation(_Body):
    email: str = Field(min_length=1, max_length=EMAIL_MAX, pattern=EMAIL)
    role: Role


class InvitationView(BaseModel):
    invitation_id: str
    email: str
    role: Role
    created_at: AwareDatetime
    expires_at: AwareDatetime


class IssuedInvitation(InvitationView):
    token: str = Field(description="`hi_<id>_<secret>`: put it in the link; shown once.")


class InvitationToken(_Body):
    token: str = Field(min_length=1, max_length=200)


class InvitationDetails(BaseModel):
    business_name: str
    email: str
    role: Role
    expires_at: AwareDatetime
    has_account: bool = Field(description="True: accepting asks for the existing password.")


class Acceptance(_Body):
    token: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=NAME_MAX, description="Only for a new person.")
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class MemberView(BaseModel):
    user_id: str
    email: str
    name: str
    role: Role
    joined_at: AwareDatetime


class Team(BaseModel):
    members: list[MemberView]
    invitations: list[InvitationView] = Field(description="Invitations not yet used or expired.")


class RoleChange(_Body):
    role: Role


class NewUser(_Body):
    email: str = Field(min_length=1, max_length=EMAIL_MAX, pattern=EMAIL)
    name: str = Field(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    role: Role = Role.OWNER


class BusinessSettings(BaseModel):
    business_id: str
    name: str
    timezone: str | None = Field(
        description="The IANA time zone the console shows and reads times in; null: none set."
    )


class TimezoneChange(_Body):
    timezone: str = Field(
        min_length=1,
        max_length=64,
        description="An IANA time zone name this installation knows (`zoneinfo`), e.g. "
        "`Europe/Berlin`; any other is refused (422).",
        examples=["Europe/Berlin"],
    )

    @field_validator("timezone")
    @classmethod
    def _known(cls, value: str) -> str:
        return known_timezone(value)
