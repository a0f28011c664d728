"""No body signed with the app secret gets a server error from the status webhook (issue 19,
finding 4), property-based, against the publisher served over HTTP on the real Kafka and
FerretDB: a valid status delivery for a number Herald sends from, broken by hypothesis (a value
replaced by a hostile one, an unknown field, a field removed, nesting far too deep), or any JSON
at all. Whatever is refused is refused with a 4xx; a delivery that cannot be handled yet may say
503 (Meta retries it), nothing answers 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from publisher_testenv.whatsapp import APP_SECRET, Env
from publisher_whatsapp.adapters.store import NUMBERS
from publisher_whatsapp.testing import signed, status_delivery

pytestmark = pytest.mark.connected

PHONE = "106540352242922"
DEEP = "__deep__"
HOSTILE: list[Any] = [
    "\ud800",
    "nul\x00",
    "",
    "a" * 5000,
    "9999999999999999999999",
    "-1",
    2**64,
    -(2**63) - 1,
    1e308,
    float("nan"),
    None,
    True,
    [],
    {},
    DEEP,
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VALUES = st.sampled_from(HOSTILE) | st.text(max_size=30) | JSON_VALUES
VALID = json.loads(
    status_delivery(PHONE, [("wamid.1", "delivered", None), ("wamid.2", "failed", 131026)])
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def deliveries(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        value = draw(VALUES)
    else:
        value = json.loads(json.dumps(VALID))
        for _ in range(draw(st.integers(1, 3))):
            where = draw(st.sampled_from(paths(value)))
            if not where:
                continue
            parent = value
            for step in where[:-1]:
                parent = parent[step]
            how = draw(st.sampled_from(["replace", "add", "drop"]))
            if how == "replace":
                parent[where[-1]] = draw(VALUES)
            elif how == "drop" and isinstance(parent, dict):
                parent.pop(where[-1], None)
            elif isinstance(parent[where[-1]], dict):
                parent[where[-1]][draw(st.sampled_from(["evil", "\ud800", "nul\x00"]))] = 1
    text = json.dumps(value).replace(json.dumps(DEEP), "[" * 50_000 + "]" * 50_000)
    return text.encode()


def deep(path: tuple[Any, ...]) -> bytes:
    value = json.loads(json.dumps(VALID))
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = DEEP
    return json.dumps(value).replace(json.dumps(DEEP), "[" * 50_000 + "]" * 50_000).encode()


VALUE = ("entry", 0, "changes", 0, "value")
STATUS = (*VALUE, "statuses", 0)
FAILED = (*VALUE, "statuses", 1)


def with_(path: tuple[Any, ...], hostile: Any) -> bytes:
    value = json.loads(json.dumps(VALID))
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = hostile
    return json.dumps(value).encode()


# The publisher serves from a thread of this process, and its jittered retries use `random`
# while hypothesis generates; no strategy here uses `random`, so the examples stay reproducible.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
async def test_no_signed_body_gets_a_server_error(env: Env) -> None:
    await env.db[NUMBERS].insert_one({"_id": PHONE, "integration_id": "int-wa-1"})
    with env.serving() as url:

        @settings(
            max_examples=150,
            derandomize=True,  # the same examples on every run: CI is reproducible
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @example(body=deep(("entry",)))
        @example(body=with_((*STATUS, "id"), "wamid.\ud800"))
        @example(body=with_((*STATUS, "id"), "wamid.nul\x00"))
        @example(
            body=with_(("entry", 0, "changes", 0, "value", "metadata", "phone_number_id"), "1\x00")
        )
        @example(body=with_((*STATUS, "timestamp"), "99999999999999999999"))
        @example(body=with_((*FAILED, "errors", 0, "code"), 2**64))
        @given(body=deliveries())
        def answers_below_500(body: bytes) -> None:
            answer = httpx.post(
                f"{url}/webhooks/whatsapp",
                content=body,
                headers={"X-Hub-Signature-256": signed(body, APP_SECRET)},
                timeout=60,
            )
            assert answer.status_code < 500 or answer.status_code == 503, (
                body[:300],
                answer.status_code,
                answer.text[:300],
            )

        await asyncio.to_thread(answers_below_500)
