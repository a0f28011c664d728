"""Graph parameters as Meta's SDKs and plain clients send them, and the `fields` syntax."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from platform_sandbox.fields import parse_fields, select
from platform_sandbox.graph import GraphParams, expected_proof
from platform_sandbox.graph_errors import GraphError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("false", False), ("1", True), ("0", False), (True, True), (False, False)],
)
def test_booleans(raw: Any, expected: bool) -> None:
    assert GraphParams({"published": raw}).flag("published", default=not expected) is expected


def test_a_non_boolean_is_error_100() -> None:
    with pytest.raises(GraphError) as caught:
        GraphParams({"published": "maybe"}).flag("published", default=True)
    assert caught.value.code == 100


@pytest.mark.parametrize(
    "values",
    [
        {"children": '["1","2"]'},
        {"children": "1,2"},
        {"children": ["1", "2"]},
        {"children[0]": "1", "children[1]": "2"},
    ],
)
def test_lists_in_every_encoding(values: dict[str, Any]) -> None:
    assert [str(v) for v in GraphParams(values).array("children") or []] == ["1", "2"]


def test_json_objects_and_secrets_kept_out_of_public_params() -> None:
    params = GraphParams({"text": '{"body": "hi"}', "access_token": "EAAx", "appsecret_proof": "p"})
    assert params.decoded("text") == {"body": "hi"}
    assert params.public() == {"text": '{"body": "hi"}'}
    with pytest.raises(GraphError):
        GraphParams({"text": "{nope"}).decoded("text")


def test_integers() -> None:
    assert GraphParams({"n": "12"}).integer("n") == 12
    assert GraphParams({}).integer("n") is None
    with pytest.raises(GraphError):
        GraphParams({"n": "x"}).integer("n")


def test_appsecret_proof_is_hmac_sha256_hex() -> None:
    digest = hmac.new(b"secret", b"token", hashlib.sha256).hexdigest()
    assert expected_proof("secret", "token", None) == digest
    timed = hmac.new(b"secret", b"token|1700000000", hashlib.sha256).hexdigest()
    assert expected_proof("secret", "token", "1700000000") == timed


def test_fields_syntax() -> None:
    assert parse_fields("id,name,instagram_business_account{id,username},likes.limit(0)") == {
        "id": None,
        "name": None,
        "instagram_business_account": {"id": None, "username": None},
        "likes": None,
    }
    with pytest.raises(GraphError):
        parse_fields("id,name}")


def test_select_defaults_nested_ids_and_unknown_fields() -> None:
    available = {"id": "1", "name": "P", "ig": {"id": "9", "username": "u"}, "empty": None}
    assert select(available, None, ["name"], "Page") == {"name": "P", "id": "1"}
    assert select(available, "ig", [], "Page") == {"ig": {"id": "9"}, "id": "1"}
    nested = select(available, "ig{username}", [], "Page")
    assert nested == {"ig": {"username": "u", "id": "9"}, "id": "1"}  # Graph adds ids
    assert select(available, "empty", [], "Page") == {"id": "1"}
    with pytest.raises(GraphError) as caught:
        select(available, "nope", [], "Page")
    assert "nonexisting field (nope) on node type (Page)" in str(caught.value)
