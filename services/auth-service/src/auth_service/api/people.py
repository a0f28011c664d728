"""Console users (ADR 0024): `/v1/sessions` and `/v1/session` (sign in, who am I, sign out,
sign out everywhere), `/v1/invitations` (what a link invites to, accepting it), `/v1/team`
(owners: members, invitations, roles, removal) and the operators' `/v1/admin/.../users`.

A session is also accepted wherever an API key is, with its role's scopes (`api.common`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPBearer

from auth_service.api.common import (
    Bearer,
    DepsDep,
    PeopleDep,
    error_responses,
    require_admin,
)
from auth_service.api.people_schemas import (
    Acceptance,
    InvitationDetails,
    InvitationToken,
    InvitationView,
    IssuedInvitation,
    IssuedSession,
    MemberView,
    NewInvitation,
    NewUser,
    RoleChange,
    SessionView,
    SignedOutEverywhere,
    SignIn,
    Team,
)
from auth_service.api.strict import StrictRoute
from auth_service.errors import NotFound
from auth_service.handlers import people as sessions
from auth_service.handlers import team
from auth_service.handlers.base import Deps
from auth_service.handlers.people import SignedIn
from auth_service.people import Invitation, Membership, User

session_scheme = HTTPBearer(
    scheme_name="Session", description="A console session: hs_<id>_<secret>", auto_error=False
)
router = APIRouter(tags=["people"], route_class=StrictRoute)
admin_router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    route_class=StrictRoute,
)


async def signed_in(
    deps: DepsDep, people: PeopleDep, credentials: Annotated[Bearer, Depends(session_scheme)]
) -> SignedIn:
    raw = credentials.credentials if credentials else None
    return await sessions.require_session(deps, people, raw)


SessionDep = Annotated[SignedIn, Depends(signed_in)]


async def session_view(deps: Deps, signed: SignedIn) -> SessionView:
    business = await deps.businesses.get(signed.session.business_id)
    return SessionView(
        session_id=signed.session.session_id,
        user_id=signed.user.user_id,
        email=signed.user.email,
        name=signed.user.name,
        business_id=signed.session.business_id,
        business_name=business.name if business else signed.session.business_id,
        business_timezone=business.timezone if business else None,
        role=signed.role,
        expires_at=signed.session.expires_at,
    )


async def issued(deps: Deps, signed: SignedIn) -> IssuedSession:
    view = await session_view(deps, signed)
    return IssuedSession(**view.model_dump(), token=signed.token or "")


def member_view(membership: Membership, user: User) -> MemberView:
    return MemberView(
        user_id=user.user_id,
        email=user.email,
        name=user.name,
        role=membership.role,
        joined_at=membership.created_at,
    )


def invitation_view(invitation: Invitation) -> InvitationView:
    return InvitationView(
        invitation_id=invitation.invitation_id,
        email=invitation.email,
        role=invitation.role,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


@router.post(
    "/v1/sessions",
    status_code=201,
    response_model=IssuedSession,
    responses=error_responses(401, 403) | {429: {"description": "Too many failed sign-ins"}},
)
async def sign_in(
    body: SignIn, request: Request, deps: DepsDep, people: PeopleDep
) -> IssuedSession:
    """Sign in with email and password. Failed attempts are limited per email and per client
    address (behind the console: the browser's, from X-Forwarded-For of a trusted proxy)."""
    address = request.client.host if request.client else "unknown"
    signed = await sessions.sign_in(
        deps, people, body.email, body.password, address=address, business_id=body.business_id
    )
    return await issued(deps, signed)


@router.get("/v1/session", response_model=SessionView, responses=error_responses(401))
async def who_am_i(deps: DepsDep, signed: SessionDep) -> SessionView:
    return await session_view(deps, signed)


@router.delete("/v1/session", status_code=204, responses=error_responses(401))
async def sign_out(deps: DepsDep, people: PeopleDep, signed: SessionDep) -> Response:
    await sessions.sign_out(deps, people, signed)
    return Response(status_code=204)


@router.post(
    "/v1/session/sign-out-everywhere",
    response_model=SignedOutEverywhere,
    responses=error_responses(401),
)
async def sign_out_everywhere(
    deps: DepsDep, people: PeopleDep, signed: SessionDep
) -> SignedOutEverywhere:
    return SignedOutEverywhere(revoked=await sessions.sign_out_everywhere(deps, people, signed))


@router.post(
    "/v1/invitations/inspect", response_model=InvitationDetails, responses=error_responses(404)
)
async def inspect_invitation(
    body: InvitationToken, deps: DepsDep, people: PeopleDep
) -> InvitationDetails:
    """What a link invites to (the token travels in a body, not in a logged URL)."""
    invitation = await team.find_invitation(deps, people, body.token)
    business = await deps.businesses.get(invitation.business_id)
    return InvitationDetails(
        business_name=business.name if business else invitation.business_id,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
        has_account=await people.store.user_by_email(invitation.email) is not None,
    )


@router.post(
    "/v1/invitations/accept",
    status_code=201,
    response_model=IssuedSession,
    responses=error_responses(401, 404, 409) | {429: {"description": "Too many failed sign-ins"}},
)
async def accept_invitation(
    body: Acceptance, request: Request, deps: DepsDep, people: PeopleDep
) -> IssuedSession:
    """Join the business: a new person sets a name and password; a known one enters theirs
    (checked within the sign-in failure limits)."""
    address = request.client.host if request.client else "unknown"
    signed = await team.accept(deps, people, body.token, body.name, body.password, address=address)
    return await issued(deps, signed)


@router.get("/v1/team", response_model=Team, responses=error_responses(401, 403))
async def get_team(deps: DepsDep, people: PeopleDep, signed: SessionDep) -> Team:
    members, pending = await team.team(deps, people, signed)
    return Team(
        members=[member_view(m, u) for m, u in members],
        invitations=[invitation_view(i) for i in pending],
    )


@router.post(
    "/v1/team/invitations",
    status_code=201,
    response_model=IssuedInvitation,
    responses=error_responses(401, 403),
)
async def invite(
    body: NewInvitation, deps: DepsDep, people: PeopleDep, signed: SessionDep
) -> IssuedInvitation:
    made = await team.invite(deps, people, signed, body.email, body.role)
    return IssuedInvitation(**invitation_view(made.invitation).model_dump(), token=made.token)


@router.patch(
    "/v1/team/members/{user_id}",
    response_model=MemberView,
    responses=error_responses(401, 403, 404, 409),
)
async def change_role(
    user_id: str, body: RoleChange, deps: DepsDep, people: PeopleDep, signed: SessionDep
) -> MemberView:
    membership = await team.change_role(deps, people, signed, user_id, body.role)
    user = await people.store.user(user_id)
    if user is None:  # removed meanwhile
        raise NotFound(f"no member {user_id} in this business", field="user_id")
    return member_view(membership, user)


@router.delete(
    "/v1/team/members/{user_id}", status_code=204, responses=error_responses(401, 403, 404, 409)
)
async def remove_member(
    user_id: str, deps: DepsDep, people: PeopleDep, signed: SessionDep
) -> Response:
    """The member leaves this business, and their sessions in it end at once."""
    await team.remove(deps, people, signed, user_id)
    return Response(status_code=204)


@admin_router.post(
    "/businesses/{business_id}/users",
    status_code=201,
    response_model=MemberView,
    responses=error_responses(401, 404, 409),
)
async def create_user(
    business_id: str, body: NewUser, deps: DepsDep, people: PeopleDep
) -> MemberView:
    """A person with a password and a role in the business (the demo's owner, a first owner)."""
    user, membership = await team.create_user(
        deps,
        people,
        business_id,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
    )
    return member_view(membership, user)
