"""TikTok's webhook signature: both secrets of a rotation, the replay window, bad headers."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from herald.signatures import SignatureError, sign_tiktok, verify_tiktok

pytestmark = pytest.mark.unit

BODY = b'{"event":"authorization.removed","user_openid":"-000abc"}'
AT = 1_790_000_000
SECRETS = ["current-secret", "previous-secret"]


def test_the_header_is_tiktoks_documented_hmac() -> None:
    expected = hmac.new(b"current-secret", f"{AT}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign_tiktok("current-secret", BODY, AT) == f"t={AT},s={expected}"


@pytest.mark.parametrize("secret", SECRETS)
def test_the_current_or_the_rotated_secret_is_accepted(secret: str) -> None:
    verify_tiktok(sign_tiktok(secret, BODY, AT), BODY, SECRETS, AT + 100, 300)


@pytest.mark.parametrize(
    "header",
    [
        f" s={sign_tiktok('current-secret', BODY, AT).partition(',s=')[2]} , t={AT} ",
        sign_tiktok("current-secret", BODY, AT).upper().replace("T=", "t=").replace("S=", "s="),
        sign_tiktok("current-secret", BODY, AT) + ",v=2",
    ],
    ids=["reordered-and-spaced", "upper-case-hex", "unknown-part"],
)
def test_harmless_variations_of_the_header_are_accepted(header: str) -> None:
    verify_tiktok(header, BODY, SECRETS, AT, 300)


@pytest.mark.parametrize(
    ("now", "fresh"),
    [(AT + 300, True), (AT - 300, True), (AT + 301, False), (AT - 301, False)],
)
def test_a_timestamp_outside_the_tolerance_is_refused(now: int, fresh: bool) -> None:
    header = sign_tiktok("current-secret", BODY, AT)
    if fresh:
        verify_tiktok(header, BODY, SECRETS, now, 300)
    else:
        with pytest.raises(SignatureError, match="tolerance"):
            verify_tiktok(header, BODY, SECRETS, now, 300)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"t={AT}",
        "s=" + "0" * 64,
        f"t={AT},s=00",
        f"t={AT},s=" + "g" * 64,
        "t=-5,s=" + "0" * 64,
        "t=1e9,s=" + "0" * 64,
        "t=\u00b2,s=" + "0" * 64,  # a digit to str.isdigit, not to int()
        "t=" + "9" * 5_000 + ",s=" + "0" * 64,  # more digits than int() reads
        f"t={AT},s={'0' * 64}," + "x" * 600,
    ],
    ids=lambda h: (h or repr(h))[:20],
)
def test_a_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_tiktok(header, BODY, SECRETS, AT, 300)


def test_another_secret_body_or_timestamp_is_refused() -> None:
    header = sign_tiktok("current-secret", BODY, AT)
    for bad_header, bad_body in [
        (sign_tiktok("someone-else", BODY, AT), BODY),
        (header, BODY + b" "),
        (header.replace(f"t={AT}", f"t={AT + 1}"), BODY),
    ]:
        with pytest.raises(SignatureError, match="does not match"):
            verify_tiktok(bad_header, bad_body, SECRETS, AT, 300)


def test_an_empty_secret_accepts_nothing() -> None:
    with pytest.raises(SignatureError):
        verify_tiktok(sign_tiktok("", BODY, AT), BODY, ["", "current-secret"], AT, 300)
    with pytest.raises(SignatureError):
        verify_tiktok(sign_tiktok("", BODY, AT), BODY, [], AT, 300)


def test_one_string_is_not_taken_for_a_list_of_secrets() -> None:
    with pytest.raises(TypeError):
        verify_tiktok(sign_tiktok("c", BODY, AT), BODY, "current-secret", AT, 300)
