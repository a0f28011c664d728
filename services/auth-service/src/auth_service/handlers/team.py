"""A business's team (ADR 0024): invitations by link, accepting one, roles, removal.

An invitation is a one-time token (`hi_<id>_<secret>`, the secret stored only as an HMAC) for
one email and role, expiring after `invitation_ttl_s`; accepting it uses it up (an insert into a
unique index decides between two acceptances), creates the person if the email is new (with the
name and password given) or checks the password of the person who has it, and opens a session.
Only owners manage the team, and a business always keeps one owner.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from auth_service.domain import hash_secret, secret_matches
from auth_service.errors import Forbidden, InvalidField, NotFound, Unauthorized
from auth_service.handlers.base import Deps
from auth_service.handlers.people import (
    People,
    SignedIn,
    email_or_refuse,
    open_session,
    password_holds,
)
from auth_service.people import (
    INVITATION_PREFIX,
    Invitation,
    Membership,
    Role,
    User,
    name_problem,
    new_token,
    parse_token,
    password_problem,
)
from herald.apierrors import Conflict


@dataclass(frozen=True)
class Issued:
    invitation: Invitation
    token: str


def require_owner(signed: SignedIn) -> None:
    if signed.role is not Role.OWNER:
        msg = f"only an owner manages the team; you are a {signed.role.value}"
        raise Forbidden(msg, code="not_an_owner")


def _check_new_person(name: str, password: str) -> None:
    for field, problem in (("name", name_problem(name)), ("password", password_problem(password))):
        if problem is not None:
            raise InvalidField(f"{field}: {problem}", field=field)


async def create_user(
    deps: Deps,
    people: People,
    business_id: str,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
) -> tuple[User, Membership]:
    """An operator's way in (the admin API, the demo): a person and their membership."""
    if await deps.businesses.get(business_id) is None:
        raise NotFound(f"no business {business_id}")
    address = email_or_refuse(email)
    _check_new_person(name, password)
    now = deps.clock.now()
    user = User(
        f"usr_{secrets.token_hex(12)}",
        address,
        name.strip(),
        await people.passwords.hash(password),
        now,
    )
    if not await people.store.insert_user(user):
        raise Conflict(f"email: a person with {address} exists", code="email_taken", field="email")
    membership = Membership(business_id, user.user_id, role, now)
    await people.store.put_membership(membership)
    return user, membership


async def invite(deps: Deps, people: People, signed: SignedIn, email: str, role: Role) -> Issued:
    require_owner(signed)
    address = email_or_refuse(email)
    token = new_token(INVITATION_PREFIX)
    now = deps.clock.now()
    invitation = Invitation(
        invitation_id=token.token_id,
        business_id=signed.session.business_id,
        email=address,
        role=role,
        secret_hash=hash_secret(token.secret, deps.policy.pepper),
        invited_by=signed.user.user_id,
        created_at=now,
        expires_at=now + timedelta(seconds=people.policy.invitation_ttl_s),
    )
    await people.store.insert_invitation(invitation)
    return Issued(invitation, token.full)


async def find_invitation(deps: Deps, people: People, raw: str) -> Invitation:
    """The usable invitation `raw` is; 404 when unknown, used or expired (said alike)."""
    token = parse_token(raw, INVITATION_PREFIX)
    found = await people.store.invitation(token.token_id) if token else None
    if (
        token is None
        or found is None
        or not secret_matches(token.secret, deps.policy.pepper, found.secret_hash)
        or not found.usable(deps.clock.now())
    ):
        msg = "token: this invitation is unknown, used or expired; ask for a new one"
        raise NotFound(msg, code="invitation_not_usable", field="token")
    return found


async def accept(
    deps: Deps, people: People, raw: str, name: str, password: str, *, address: str
) -> SignedIn:
    """Join with the invitation; an existing account's password is checked within the failure
    limits of signing in (a link must not become a way around them)."""
    invitation = await find_invitation(deps, people, raw)
    user = await people.store.user_by_email(invitation.email)
    if user is None:
        _check_new_person(name, password)
    elif not await password_holds(deps, people, invitation.email, password, address=address):
        msg = f"password: {invitation.email} has an account; enter its password to join"
        raise Unauthorized(msg, field="password")
    now = deps.clock.now()
    if not await people.store.use_invitation(invitation.invitation_id, now):
        msg = "token: this invitation is unknown, used or expired; ask for a new one"
        raise NotFound(msg, code="invitation_not_usable", field="token")
    if user is None:
        hashed = await people.passwords.hash(password)
        user = User(f"usr_{secrets.token_hex(12)}", invitation.email, name.strip(), hashed, now)
        if not await people.store.insert_user(user):  # the same email accepted twice at once
            msg = f"email: {invitation.email} joined meanwhile; open the link again"
            raise Conflict(msg, code="email_taken", field="email")
    membership = await people.store.membership(invitation.business_id, user.user_id)
    if membership is None:  # already a member: the invitation changes nothing
        membership = Membership(invitation.business_id, user.user_id, invitation.role, now)
        await people.store.put_membership(membership)
    return await open_session(deps, people, user, membership)


async def team(
    deps: Deps, people: People, signed: SignedIn
) -> tuple[list[tuple[Membership, User]], list[Invitation]]:
    """The members with who they are, and the invitations still usable."""
    require_owner(signed)
    business_id = signed.session.business_id
    members = []
    for membership in await people.store.members(business_id):
        user = await people.store.user(membership.user_id)
        if user is not None:
            members.append((membership, user))
    now = deps.clock.now()
    pending = [i for i in await people.store.invitations(business_id) if i.usable(now)]
    return members, pending


async def _other_member(people: People, signed: SignedIn, user_id: str) -> Membership:
    require_owner(signed)
    membership = await people.store.membership(signed.session.business_id, user_id)
    if membership is None:
        raise NotFound(f"no member {user_id} in this business", field="user_id")
    return membership


async def _keep_an_owner(people: People, business_id: str, leaving: Membership) -> None:
    if leaving.role is not Role.OWNER:
        return
    owners = [m for m in await people.store.members(business_id) if m.role is Role.OWNER]
    if len(owners) <= 1:
        msg = "a business keeps at least one owner: make someone else owner first"
        raise Conflict(msg, code="last_owner")


async def change_role(
    deps: Deps, people: People, signed: SignedIn, user_id: str, role: Role
) -> Membership:
    membership = await _other_member(people, signed, user_id)
    if role is not Role.OWNER:
        await _keep_an_owner(people, membership.business_id, membership)
    await people.store.set_role(membership.business_id, user_id, role)
    return Membership(membership.business_id, user_id, role, membership.created_at)


async def remove(deps: Deps, people: People, signed: SignedIn, user_id: str) -> None:
    """The member leaves the business; their sessions in it end now."""
    membership = await _other_member(people, signed, user_id)
    await _keep_an_owner(people, membership.business_id, membership)
    await people.store.remove_membership(membership.business_id, user_id)
    await people.store.revoke_sessions(user_id, deps.clock.now(), membership.business_id)
