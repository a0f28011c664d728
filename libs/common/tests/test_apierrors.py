"""The refusals every Herald API shares: a status, a stable code, details without the empties."""

from __future__ import annotations

import pytest

from herald.apierrors import ApiError, Conflict, NotFound, Unauthorized, Unavailable

pytestmark = pytest.mark.unit


def test_a_refusal_carries_its_status_code_and_message() -> None:
    error = NotFound("no such post")
    assert (error.status, error.code, error.message, str(error)) == (
        404,
        "not_found",
        "no such post",
        "no such post",
    )
    assert isinstance(error, ApiError)
    assert (Unauthorized("x").status, Conflict("x").status, Unavailable("x").status) == (
        401,
        409,
        503,
    )


def test_a_code_and_details_can_be_given_per_raise() -> None:
    error = Unauthorized("bad signature", code="invalid_signature", reason="stale", extra=None)
    assert (error.status, error.code) == (401, "invalid_signature")
    assert error.details == {"reason": "stale"}
    assert Unauthorized("other").code == "unauthorized"  # the class's code is untouched
