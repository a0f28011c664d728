"""Who a refused submission came from, read from a body that did not decode as an event."""

from __future__ import annotations

import json

import pytest

from scheduler.correlation import Identity, readable_identity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        # binary mode: the submission itself, invalid for another reason
        (
            {"business_id": "biz-a", "idempotency_key": "k-1", "content": {}},
            {},
            Identity("biz-a", "k-1"),
        ),
        # structured mode: under `data`, the business also as the `businessid` extension
        (
            {"specversion": "1.0", "businessid": "biz-b", "data": {"idempotency_key": "k-2"}},
            {},
            Identity("biz-b", "k-2"),
        ),
        # only the header names the business
        ({"content": "nothing else"}, {"ce_businessid": "biz-c"}, Identity("biz-c", None)),
        # values that cannot label anything are left out
        ({"business_id": 42, "idempotency_key": "x" * 256}, {}, Identity(None, None)),
        ({"business_id": "bad\x00id", "idempotency_key": ""}, {}, Identity(None, None)),
        ([1, 2, 3], {}, Identity(None, None)),
    ],
)
def test_identity_is_read_from_what_the_body_names(
    body: object, headers: dict[str, str], expected: Identity
) -> None:
    assert readable_identity(json.dumps(body).encode(), headers) == expected


@pytest.mark.parametrize("raw", [b"\xff not json", b"", b"[" * 100_000])
def test_unreadable_bodies_name_nobody(raw: bytes) -> None:
    assert readable_identity(raw, {}) == Identity(None, None)
