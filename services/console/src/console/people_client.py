"""What the console asks auth-service about people (ADR 0024): sign in, sign out (here and
everywhere), the team, invitations, the business's time zone. Public routes only; `PeopleApi`
is the port, `HttpPeopleApi` calls auth-service, the tests pass
`console.testing_people.FakePeople`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from console.client import ApiError


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SignedIn(_Read):
    token: str
    user_id: str
    email: str
    name: str
    business_name: str
    business_id: str = ""  # a fake or an older auth-service may not say
    business_timezone: str | None = None  # None: the business has none set
    role: str
    expires_at: datetime


class Business(_Read):
    """The signed-in business's own settings (`GET /v1/business`)."""

    business_id: str
    name: str
    timezone: str | None = None


class Member(_Read):
    user_id: str
    email: str
    name: str
    role: str
    joined_at: datetime


class Invitation(_Read):
    invitation_id: str
    email: str
    role: str
    expires_at: datetime


class IssuedInvitation(Invitation):
    token: str


class Team(_Read):
    members: list[Member]
    invitations: list[Invitation]


class InvitationDetails(_Read):
    business_name: str
    email: str
    role: str
    expires_at: datetime
    has_account: bool


class PeopleApi(Protocol):
    async def sign_in(
        self, email: str, password: str, *, address: str, business_id: str | None = None
    ) -> SignedIn: ...
    async def sign_out(self, token: str) -> None: ...
    async def sign_out_everywhere(self, token: str) -> int: ...
    async def team(self, token: str) -> Team: ...
    async def invite(self, token: str, email: str, role: str) -> IssuedInvitation: ...
    async def change_role(self, token: str, user_id: str, role: str) -> None: ...
    async def remove(self, token: str, user_id: str) -> None: ...
    async def invitation(self, invitation: str) -> InvitationDetails: ...
    async def business(self, token: str) -> Business: ...
    async def set_time_zone(self, token: str, zone: str) -> Business: ...
    async def accept(
        self, invitation: str, name: str, password: str, *, address: str
    ) -> SignedIn: ...


class HttpPeopleApi:
    def __init__(self, http: httpx.AsyncClient, *, auth_url: str) -> None:
        self._http = http
        self._auth = auth_url

    async def sign_in(
        self, email: str, password: str, *, address: str, business_id: str | None = None
    ) -> SignedIn:
        # auth-service limits failed sign-ins per address: the browser's, not the console's.
        # uvicorn there takes it from this header only when the console's address is trusted.
        body = {"email": email, "password": password}
        if business_id:
            body["business_id"] = business_id
        found = await self._call("POST", "/v1/sessions", json=body, forwarded_for=address)
        return SignedIn.model_validate(found)

    async def sign_out(self, token: str) -> None:
        await self._call("DELETE", "/v1/session", token=token)

    async def sign_out_everywhere(self, token: str) -> int:
        found = await self._call("POST", "/v1/session/sign-out-everywhere", token=token)
        return int(found["revoked"])

    async def team(self, token: str) -> Team:
        return Team.model_validate(await self._call("GET", "/v1/team", token=token))

    async def invite(self, token: str, email: str, role: str) -> IssuedInvitation:
        body = {"email": email, "role": role}
        found = await self._call("POST", "/v1/team/invitations", json=body, token=token)
        return IssuedInvitation.model_validate(found)

    async def change_role(self, token: str, user_id: str, role: str) -> None:
        path = f"/v1/team/members/{user_id}"
        await self._call("PATCH", path, json={"role": role}, token=token)

    async def remove(self, token: str, user_id: str) -> None:
        await self._call("DELETE", f"/v1/team/members/{user_id}", token=token)

    async def invitation(self, invitation: str) -> InvitationDetails:
        found = await self._call("POST", "/v1/invitations/inspect", json={"token": invitation})
        return InvitationDetails.model_validate(found)

    async def business(self, token: str) -> Business:
        return Business.model_validate(await self._call("GET", "/v1/business", token=token))

    async def set_time_zone(self, token: str, zone: str) -> Business:
        found = await self._call("PATCH", "/v1/business", json={"timezone": zone}, token=token)
        return Business.model_validate(found)

    async def accept(self, invitation: str, name: str, password: str, *, address: str) -> SignedIn:
        # An existing account's password is checked within the sign-in limits: the browser's.
        body = {"token": invitation, "name": name, "password": password}
        found = await self._call("POST", "/v1/invitations/accept", json=body, forwarded_for=address)
        return SignedIn.model_validate(found)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, str] | None = None,
        token: str | None = None,
        forwarded_for: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        try:
            response = await self._http.request(
                method, f"{self._auth}{path}", json=json, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"auth-service did not answer: {exc!r}"[:300]) from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _message(response))
        return response.json() if response.content else None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and body.get("violations"):  # a 422: say what each one is
        return "; ".join(str(v.get("message", "")) for v in body["violations"])[:300]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.text[:300]
