"""Signing in and out (ADR 0024): a session for one person in one business, found by an opaque
token whose secret is stored only as an HMAC; sign-out and sign-out everywhere revoke sessions.

A session authenticates wherever an API key does (`authenticate_any`, `introspect_any`): it
stands for the person's role in that business, whose scopes are read at every question, so a
changed role or a removal counts at once; the scheduler asks auth-service about a session
exactly as about a key, so a revocation reaches it within the same 0.5 s (ADR 0014).

Failed sign-ins are counted per email and per client address within a window; past either
limit every attempt is refused, right password or not, until the window has passed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from auth_service.domain import ApiKeyRecord, hash_secret, secret_matches
from auth_service.errors import Forbidden, InvalidField, TooManyAttempts, Unauthorized
from auth_service.handlers.base import Deps
from auth_service.handlers.keys import authenticate, introspect
from auth_service.people import (
    ROLE_SCOPES,
    SESSION_PREFIX,
    Membership,
    Role,
    Session,
    User,
    is_session_token,
    new_token,
    normalize_email,
    parse_token,
)
from auth_service.people_ports import PasswordHasher, PeopleStore

# A hash of a password nobody has: an unknown email is checked against it, so that answering
# "wrong email" takes as long as "wrong password" and does not tell which addresses exist.
_DUMMY = (
    "$argon2id$v=19$m=65536,t=3,p=4$pzlfAz9nmSpVmGF+wUvRnA$"
    "4+d2cvowpvgd2BdhsyCSqD5/HYia1oToK2bYW6OVYRE"
)


@dataclass(frozen=True)
class PeoplePolicy:
    session_ttl_s: int = 8 * 3600
    invitation_ttl_s: int = 7 * 86400
    failure_window_s: int = 900
    max_failures_per_email: int = 5
    max_failures_per_address: int = 20


@dataclass
class People:
    store: PeopleStore
    passwords: PasswordHasher
    policy: PeoplePolicy


@dataclass(frozen=True)
class SignedIn:
    """A session with who it is for; `token` only when it was just issued (shown once)."""

    session: Session
    user: User
    membership: Membership
    token: str | None = None

    @property
    def role(self) -> Role:
        return self.membership.role


def email_or_refuse(value: str, field: str = "email") -> str:
    email = normalize_email(value)
    if email is None:
        msg = f"{field}: not an email address"
        raise InvalidField(msg, field=field)
    return email


def _subject(kind: str, value: str) -> str:
    """Counted under a digest: the failures collection holds no addresses or emails."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


async def _check_limits(deps: Deps, people: People, subjects: dict[str, int]) -> None:
    window = timedelta(seconds=people.policy.failure_window_s)
    since = deps.clock.now() - window
    for subject, limit in subjects.items():
        if await people.store.failures_since(subject, since) >= limit:
            what = "this email" if subject.startswith("email:") else "this address"
            minutes = people.policy.failure_window_s // 60
            msg = f"too many failed sign-ins for {what}; try again in {minutes} minutes"
            raise TooManyAttempts(msg, retry_after_s=str(people.policy.failure_window_s))


async def sign_in(
    deps: Deps,
    people: People,
    email: str,
    password: str,
    *,
    address: str,
    business_id: str | None = None,
) -> SignedIn:
    """A new session, or 401 (wrong email or password, said alike), 403 (no membership in the
    business), 400 (several businesses and none named), 429 (past a failure limit)."""
    address_email = email_or_refuse(email)
    wrong = "the email or the password is wrong"
    if not await password_holds(deps, people, address_email, password, address=address):
        raise Unauthorized(wrong)
    user = await people.store.user_by_email(address_email)
    if user is None:  # a person is never deleted; said as a wrong password all the same
        raise Unauthorized(wrong)
    membership = await _membership_for(deps, people, user, business_id)
    return await open_session(deps, people, user, membership)


async def password_holds(
    deps: Deps, people: People, email: str, password: str, *, address: str
) -> bool:
    """Whether `email` is a person's whose password this is, within the failure limits (429
    past them): every check of a password, signing in or accepting an invitation with an
    existing account, counts against the same limits."""
    policy = people.policy
    subjects = {
        _subject("email", email): policy.max_failures_per_email,
        _subject("address", address): policy.max_failures_per_address,
    }
    await _check_limits(deps, people, subjects)
    user = await people.store.user_by_email(email)
    ok = await people.passwords.verify(user.password_hash if user else _DUMMY, password)
    if user is None or not ok:
        now = deps.clock.now()
        forget = now - timedelta(seconds=policy.failure_window_s)
        for subject in subjects:
            await people.store.add_failure(subject, now, forget)
        return False
    await people.store.clear_failures(_subject("email", email))
    return True


async def _membership_for(
    deps: Deps, people: People, user: User, business_id: str | None
) -> Membership:
    memberships = await people.store.memberships_of(user.user_id)
    if business_id is not None:
        for membership in memberships:
            if membership.business_id == business_id:
                return membership
        msg = f"business_id: {user.email} is not a member of {business_id}"
        raise Forbidden(msg, code="not_a_member", field="business_id")
    if not memberships:
        raise Forbidden(f"{user.email} is not a member of any business", code="not_a_member")
    if len(memberships) > 1:
        named = []
        for m in memberships:
            business = await deps.businesses.get(m.business_id)
            named.append(f"{m.business_id} ({business.name if business else 'unnamed'})")
        msg = f"business_id: {user.email} belongs to several businesses; name one of "
        choices = ",".join(m.business_id for m in memberships)
        raise InvalidField(msg + ", ".join(named), field="business_id", choices=choices)
    return memberships[0]


async def open_session(deps: Deps, people: People, user: User, membership: Membership) -> SignedIn:
    token = new_token(SESSION_PREFIX)
    now = deps.clock.now()
    session = Session(
        session_id=token.token_id,
        user_id=user.user_id,
        business_id=membership.business_id,
        secret_hash=hash_secret(token.secret, deps.policy.pepper),
        created_at=now,
        expires_at=now + timedelta(seconds=people.policy.session_ttl_s),
    )
    await people.store.insert_session(session)
    return SignedIn(session, user, membership, token.full)


async def current(deps: Deps, people: People, raw: str) -> SignedIn | None:
    """The active session `raw` is, with its person and their membership now; else None."""
    token = parse_token(raw, SESSION_PREFIX)
    if token is None:
        return None
    session = await people.store.session(token.token_id)
    if session is None or not secret_matches(token.secret, deps.policy.pepper, session.secret_hash):
        return None
    if not session.active(deps.clock.now()):
        return None
    membership = await people.store.membership(session.business_id, session.user_id)
    user = await people.store.user(session.user_id)
    if membership is None or user is None:  # removed from the business since
        return None
    return SignedIn(session, user, membership)


async def require_session(deps: Deps, people: People, raw: str | None) -> SignedIn:
    if not raw:
        raise Unauthorized("a session is required: Authorization: Bearer hs_<id>_<secret>")
    found = await current(deps, people, raw)
    if found is None:
        raise Unauthorized("the session is not valid (unknown, expired or signed out)")
    return found


def as_key(signed: SignedIn) -> ApiKeyRecord:
    """What the API-key routes see of a session: its business and its role's scopes."""
    s = signed.session
    return ApiKeyRecord(
        key_id=f"session-{s.session_id}",
        business_id=s.business_id,
        name=f"console session of {signed.user.email}",
        scopes=tuple(sorted(ROLE_SCOPES[signed.role])),
        secret_hash="",
        created_at=s.created_at,
    )


async def introspect_any(deps: Deps, people: People, raw: str) -> ApiKeyRecord | None:
    """An API key's record, or a session's as a key; None when neither is active."""
    if is_session_token(raw.strip()):
        found = await current(deps, people, raw.strip())
        return as_key(found) if found else None
    return await introspect(deps, raw)


async def authenticate_any(deps: Deps, people: People, raw: str | None, scope: str) -> ApiKeyRecord:
    if raw and is_session_token(raw.strip()):
        signed = await require_session(deps, people, raw.strip())
        if scope not in ROLE_SCOPES[signed.role]:
            msg = f"a {signed.role.value} may not do this (it needs {scope})"
            raise Forbidden(msg, code="missing_scope")
        return as_key(signed)
    return await authenticate(deps, raw, scope)


async def sign_out(deps: Deps, people: People, signed: SignedIn) -> None:
    await people.store.revoke_session(signed.session.session_id, deps.clock.now())


async def sign_out_everywhere(deps: Deps, people: People, signed: SignedIn) -> int:
    """Every session of this person, in every business, this one included."""
    return await people.store.revoke_sessions(signed.user.user_id, deps.clock.now())
