"""Console users' pure rules and the password hash (ADR 0024)."""

from __future__ import annotations

import pytest

from auth_service.adapters.passwords import Argon2Passwords
from auth_service.people import (
    INVITATION_PREFIX,
    PASSWORD_MIN,
    ROLE_SCOPES,
    SESSION_PREFIX,
    Role,
    is_session_token,
    name_problem,
    new_token,
    normalize_email,
    parse_token,
    password_problem,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Owner@Example.COM", "owner@example.com"),
        (" owner@example.com", None),  # the caller strips what a person typed
        ("tab\t@example.com", None),
        ("a.b+c@mail.example.org", "a.b+c@mail.example.org"),
        ("no-at-sign.example", None),
        ("two@@example.com", None),
        ("nodot@localhost", None),
        ("spa ce@example.com", None),
        ("x" * 65 + "@example.com", None),
        ("", None),
    ],
)
def test_emails_are_compared_lowercased_and_checked_loosely(given: str, stored: str | None) -> None:
    assert normalize_email(given) == stored


def test_password_rules_name_the_problem() -> None:
    assert password_problem("x" * PASSWORD_MIN) is None
    assert (
        password_problem("x" * (PASSWORD_MIN - 1)) == f"must be at least {PASSWORD_MIN} characters"
    )
    assert password_problem(" " * 20) is None  # length counts, not composition
    assert password_problem("x" * 257) == "must be at most 256 characters"


@pytest.mark.parametrize(
    ("name", "ok"), [("Vic", True), (" Vic ", True), ("  ", False), ("\t", False)]
)
def test_a_name_needs_something_visible(name: str, ok: bool) -> None:
    assert (name_problem(name) is None) is ok


def test_tokens_parse_only_with_their_own_prefix() -> None:
    session = new_token(SESSION_PREFIX)
    assert parse_token(session.full, SESSION_PREFIX) == session
    assert parse_token(session.full, INVITATION_PREFIX) is None
    assert parse_token(session.full[:-1], SESSION_PREFIX) is None
    assert is_session_token(session.full)
    assert not is_session_token(new_token(INVITATION_PREFIX).full)


def test_a_viewer_reads_only_and_editors_write() -> None:
    assert ROLE_SCOPES[Role.VIEWER] == {"posts:read", "integrations:read"}
    for role in (Role.OWNER, Role.EDITOR):
        assert {"posts:write", "integrations:write"} <= ROLE_SCOPES[role]


async def test_argon2id_hashes_verify_and_refuse() -> None:
    passwords = Argon2Passwords()
    hashed = await passwords.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert await passwords.verify(hashed, "correct horse battery")
    assert not await passwords.verify(hashed, "correct horse battery!")
    assert not await passwords.verify("not a hash", "correct horse battery")
    assert await passwords.hash("correct horse battery") != hashed  # a salt per hash
