"""JSON bodies are read strictly (`auth_service.api.bodies`): what JSON has no spelling for, or
what could not be stored, is a 400 `invalid_json` naming the field, never a 500. Over the app
without a database: the refusals happen before any handler runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from auth_service.app import mount
from auth_service.composition import build_components
from auth_service.settings import Settings
from auth_service.strict_json import MAX_DEPTH, JsonRefused, parse_strict

pytestmark = pytest.mark.unit
ADMIN = "admin-" + "f1e2d3c4" * 5
SCHEDULER = "sched-" + "a1b2c3d4" * 5


@pytest.mark.parametrize(
    ("raw", "field", "why"),
    [
        (b'{"name": NaN}', "name", "NaN is not a finite number"),
        (b'{"name": Infinity}', "name", "Infinity is not a finite number"),
        (b'{"name": -Infinity}', "name", "-Infinity is not a finite number"),
        (b'{"name": 1e999}', "name", "1e999 is not a finite number"),
        (b'{"name": -1E+400}', "name", "-1E+400 is not a finite number"),
        (b'{"scopes": ["posts:read", 1e999]}', "scopes[1]", "not a finite number"),
        (b'{"a": {"b": [{"c": NaN}]}}', "a.b[0].c", "not a finite number"),
        (b"[NaN]", "[0]", "not a finite number"),
        (b"NaN", "body", "not a finite number"),
        (b'{"name": "\\ud800"}', "name", "not valid Unicode"),
        (b'{"name": "ok\\udfff"}', "name", "not valid Unicode"),
        (b'{"\\ud800": 1}', "\\ud800", "field name: the text is not valid Unicode"),
        (b'{"name": "a\\u0000b"}', "name", "holds a NUL character"),
        (b'{"a\\u0000": 1}', "a\\x00", "field name: the text holds a NUL"),
    ],
)
def test_unusable_values_are_refused_at_their_path(raw: bytes, field: str, why: str) -> None:
    with pytest.raises(JsonRefused) as caught:
        parse_strict(raw)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_json"
    assert caught.value.message.startswith(f"{field}: ")
    assert why in caught.value.message


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"{", "not JSON"),
        (b'{"name": "a"} x', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b'{"n": ' + b"9" * 5_000 + b"}", "not JSON"),  # more digits than int() reads
    ],
)
def test_what_is_not_json_is_refused(raw: bytes, why: str) -> None:
    with pytest.raises(JsonRefused, match=why):
        parse_strict(raw)


def test_nesting_is_bounded_below_what_the_parser_allows() -> None:
    deep = b'{"a": ' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)
    with pytest.raises(JsonRefused, match=f"nested deeper than {MAX_DEPTH}"):
        parse_strict(deep)
    assert parse_strict(b'{"a": ' * 8 + b"1" + b"}" * 8) is not None


@pytest.mark.parametrize(
    "value",
    [
        {"name": "Bakery", "scopes": ["posts:write"]},
        {"n": 1.5e308, "m": -0.0, "i": 10**300, "t": "émoji 🍞", "z": None, "b": True},
        [],
        "text",
    ],
)
def test_json_parses_as_json(value: Any) -> None:
    assert parse_strict(json.dumps(value).encode()) == value


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.model_validate(
        {"admin_token": ADMIN, "service_tokens": {"scheduler": SCHEDULER}}
    )
    app = mount(build_components(settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auth.test") as http:
        yield http


@pytest.mark.parametrize(
    ("path", "token", "raw", "field"),
    [
        ("/v1/admin/businesses", ADMIN, b'{"name": NaN}', "name"),
        ("/v1/admin/businesses", ADMIN, b'{"name": 1e999}', "name"),
        ("/v1/admin/businesses/b1/api-keys", ADMIN, b'{"scopes": [1e999]}', "scopes[0]"),
        ("/v1/admin/businesses/b1/api-keys", ADMIN, b'{"name": -Infinity}', "name"),
        ("/internal/v1/api-keys/introspect", SCHEDULER, b'{"key": NaN}', "key"),
        ("/internal/v1/api-keys/introspect", SCHEDULER, b'{"key": 1e999}', "key"),
        ("/internal/v1/api-keys/introspect", SCHEDULER, b'{"key": "hk_\\ud800"}', "key"),
    ],
)
async def test_admin_and_introspection_bodies_answer_400_naming_the_field(
    client: httpx.AsyncClient, path: str, token: str, raw: bytes, field: str
) -> None:
    """Issue 19, finding 4: these answered 500 (the validation error echoed a value that cannot
    be written as JSON)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_json"
    assert body["message"].startswith(f"{field}: ")
