"""Meta `signed_request` and TikTok webhook signatures (the latter checked by the shared
`herald.signatures`, with the secrets this service's settings give it)."""

from __future__ import annotations

import pytest

from auth_service.composition import policy_of
from auth_service.settings import Settings
from auth_service.signatures import SignatureError, sign_request, verify_signed_request
from herald.signatures import sign_tiktok, verify_tiktok

pytestmark = pytest.mark.unit

PAYLOAD = {"algorithm": "HMAC-SHA256", "issued_at": 1_790_000_000, "user_id": "100000000000001"}


def test_signed_request_verifies_and_names_its_secret() -> None:
    signed = sign_request(PAYLOAD, "instagram-secret")
    index, payload = verify_signed_request(signed, ["meta-secret", "instagram-secret"])
    assert index == 1
    assert payload["user_id"] == "100000000000001"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.replace(".", ".x", 1),  # payload changed
        lambda s: "A" + s[1:],  # signature changed
        lambda s: s.split(".")[1],  # no signature
        lambda s: s + "." + s,  # garbage
        lambda s: "",
    ],
)
def test_signed_request_mutations_are_refused(mutate: object) -> None:
    signed = sign_request(PAYLOAD, "meta-secret")
    with pytest.raises(SignatureError):
        verify_signed_request(mutate(signed), ["meta-secret"])  # type: ignore[operator]  # a lambda


def test_signed_request_needs_the_algorithm_and_a_user() -> None:
    with pytest.raises(SignatureError):
        verify_signed_request(sign_request({"user_id": "1"}, "s"), ["s"])
    with pytest.raises(SignatureError):
        verify_signed_request(sign_request({"algorithm": "HMAC-SHA256"}, "s"), ["s"])
    with pytest.raises(SignatureError):
        verify_signed_request(sign_request(PAYLOAD, "other"), ["s"])


def test_tiktok_signature() -> None:
    body = b'{"event":"authorization.removed","user_openid":"-000abc"}'
    header = sign_tiktok("client-secret", body, 1_790_000_000)
    verify_tiktok(header, body, ["client-secret"], 1_790_000_100, 300)
    for bad_header, bad_body, now in [
        (header, body + b" ", 1_790_000_100),  # body changed
        (header, body, 1_790_000_400),  # too old
        (header.replace("t=", "t=1"), body, 1_790_000_100),  # timestamp changed
        (None, body, 1_790_000_100),
        ("s=abc", body, 1_790_000_100),
        (sign_tiktok("wrong", body, 1_790_000_000), body, 1_790_000_100),
    ]:
        with pytest.raises(SignatureError):
            verify_tiktok(bad_header, bad_body, ["client-secret"], now, 300)


def test_webhooks_accept_the_previous_tiktok_client_secret_while_it_is_rotated() -> None:
    plain = Settings.model_validate({"tiktok": {"client_secret": "new"}})
    assert policy_of(plain).tiktok_client_secrets == ("new",)
    rotating = Settings.model_validate(
        {"tiktok": {"client_secret": "new", "previous_client_secret": "old"}}
    )
    assert policy_of(rotating).tiktok_client_secrets == ("new", "old")
    body = b'{"event":"authorization.removed"}'
    for secret in ("new", "old"):
        header = sign_tiktok(secret, body, 1_790_000_000)
        verify_tiktok(header, body, policy_of(rotating).tiktok_client_secrets, 1_790_000_000, 300)
