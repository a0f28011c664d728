"""A fake of auth-service's people routes as the console sees them (ADR 0024): people with
passwords and roles in one business, sessions, invitations; it records what was revoked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.client import ApiError
from console.people_client import (
    Business,
    Invitation,
    InvitationDetails,
    IssuedInvitation,
    Member,
    SignedIn,
    Team,
)

BUSINESS = "Herald Demo Bakery"
BUSINESS_ID = "biz_0123456789abcdef01234567"


@dataclass
class FakePerson:
    user_id: str
    email: str
    name: str
    password: str
    role: str
    businesses: list[tuple[str, str]] = field(default_factory=list)  # (id, name) if several


@dataclass
class FakePeople:
    now: datetime
    people: list[FakePerson] = field(default_factory=list)
    sessions: dict[str, str] = field(default_factory=dict)  # token -> user_id
    invitations: dict[str, IssuedInvitation] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    zone: str | None = None  # the business's IANA time zone; None: none set

    def add(self, email: str, password: str, role: str, name: str = "") -> FakePerson:
        person = FakePerson(f"usr_{len(self.people)}", email, name or email, password, role)
        self.people.append(person)
        return person

    def _open(self, person: FakePerson) -> SignedIn:
        token = f"hs_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
        self.sessions[token] = person.user_id
        return SignedIn(
            token=token,
            user_id=person.user_id,
            email=person.email,
            name=person.name,
            business_name=BUSINESS,
            business_id=BUSINESS_ID,
            business_timezone=self.zone,
            role=person.role,
            expires_at=self.now + timedelta(hours=8),
        )

    def _who(self, token: str) -> FakePerson:
        user_id = self.sessions.get(token)
        person = next((p for p in self.people if p.user_id == user_id), None)
        if person is None:
            raise ApiError(401, "the session is not valid (unknown, expired or signed out)")
        return person

    def _owner(self, token: str) -> FakePerson:
        person = self._who(token)
        if person.role != "owner":
            raise ApiError(403, f"only an owner manages the team; you are a {person.role}")
        return person

    async def sign_in(
        self, email: str, password: str, *, address: str, business_id: str | None = None
    ) -> SignedIn:
        self.addresses.append(address)
        person = next((p for p in self.people if p.email == email.lower()), None)
        if person is None or person.password != password:
            raise ApiError(401, "the email or the password is wrong")
        if len(person.businesses) > 1 and business_id is None:
            named = ", ".join(f"{i} ({n})" for i, n in person.businesses)
            msg = f"business_id: {email} belongs to several businesses; name one of {named}"
            raise ApiError(400, msg)
        name = dict(person.businesses).get(business_id or "", BUSINESS)
        return self._open(person).model_copy(update={"business_name": name})

    async def sign_out(self, token: str) -> None:
        self._who(token)
        self.revoked.append(token)
        del self.sessions[token]

    async def sign_out_everywhere(self, token: str) -> int:
        person = self._who(token)
        mine = [t for t, u in self.sessions.items() if u == person.user_id]
        for t in mine:
            self.revoked.append(t)
            del self.sessions[t]
        return len(mine)

    async def team(self, token: str) -> Team:
        self._owner(token)
        members = [
            Member(user_id=p.user_id, email=p.email, name=p.name, role=p.role, joined_at=self.now)
            for p in self.people
        ]
        pending = [Invitation.model_validate(i.model_dump()) for i in self.invitations.values()]
        return Team(members=members, invitations=pending)

    async def invite(self, token: str, email: str, role: str) -> IssuedInvitation:
        self._owner(token)
        if "@" not in email:
            raise ApiError(400, "email: not an email address")
        link = f"hi_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
        issued = IssuedInvitation(
            invitation_id=link[3:19],
            email=email,
            role=role,
            expires_at=self.now + timedelta(days=7),
            token=link,
        )
        self.invitations[link] = issued
        return issued

    async def change_role(self, token: str, user_id: str, role: str) -> None:
        self._owner(token)
        next(p for p in self.people if p.user_id == user_id).role = role

    async def remove(self, token: str, user_id: str) -> None:
        self._owner(token)
        self.people = [p for p in self.people if p.user_id != user_id]

    async def invitation(self, invitation: str) -> InvitationDetails:
        found = self.invitations.get(invitation)
        if found is None:
            raise ApiError(404, "token: this invitation is unknown, used or expired")
        return InvitationDetails(
            business_name=BUSINESS,
            email=found.email,
            role=found.role,
            expires_at=found.expires_at,
            has_account=any(p.email == found.email for p in self.people),
        )

    async def business(self, token: str) -> Business:
        if not token.startswith("hk_"):  # an API key reads it too
            self._who(token)
        return Business(business_id=BUSINESS_ID, name=BUSINESS, timezone=self.zone)

    async def set_time_zone(self, token: str, zone: str) -> Business:
        person = self._who(token)
        if person.role != "owner":
            msg = f"only an owner changes the business's time zone; you are a {person.role}"
            raise ApiError(403, msg)
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ApiError(422, f"Value error, not an IANA time zone: {zone!r}") from exc
        self.zone = zone
        return await self.business(token)

    async def accept(self, invitation: str, name: str, password: str, *, address: str) -> SignedIn:
        self.addresses.append(address)
        found = self.invitations.get(invitation)
        if found is None:
            raise ApiError(404, "token: this invitation is unknown, used or expired")
        if len(password) < 12:
            raise ApiError(400, "password: must be at least 12 characters")
        del self.invitations[invitation]
        return self._open(self.add(found.email, password, found.role, name))
