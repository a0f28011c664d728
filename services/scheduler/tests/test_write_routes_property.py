"""No body a client can send to a write route of the scheduler gets a server error (issue 19,
finding 4), property-based: hypothesis takes a valid body of each route and breaks it (a value
replaced by a hostile one, an unknown field added, a field removed, nesting far too deep), or
sends arbitrary JSON, against the live service (uvicorn, FerretDB, Kafka). Every answer must be
below 500 and, when a refusal, the error envelope.

The hostile values are the classes the review found (a lone surrogate, a time whose conversion
overflows, a zone name that is a directory, nesting that exhausts a parser, a recurrence that
never occurs or occurs every second) and their neighbours (numbers past 64 bits, NaN, empty and
very long text). Every write route of the OpenAPI document must have a strategy here, so a new
route is covered or this test fails.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient

from herald.kafka import provision_topics
from herald.settings import KafkaSettings, MongoSettings
from herald.topics import TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from scheduler.app import create_app
from scheduler.settings import Settings
from scheduler.testing import FakeIntegrations, FakeKeys, auth, topic_specs
from scheduler.testprocess import ServiceProcess

pytestmark = pytest.mark.connected

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
DEEP = "__deep__"  # replaced, in the sent text, by an array nested 50,000 deep
EVERY_SECOND = (
    "FREQ=HOURLY;BYMINUTE="
    + ",".join(map(str, range(60)))
    + ";BYSECOND="
    + ",".join(map(str, range(60)))
)
# Hostile values by the kind of value they replace (a time where a time was, ...), so that a
# broken body still passes the checks before the one each value is aimed at.
TEXTS = ["\ud800", "ok\udfff", "nul\x00", "", " ", "a" * 5000, "yes", "\u202e\ufeff"]
TIMES = [
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "0001-01-01",
    "2031-03-30T01:30:00",  # skipped by Lisbon's clocks
    "1e999",
]
ZONES = ["Europe", "America", "Etc", "../../../etc/passwd", "/etc/localtime", "UTC", "\ud800"]
RULES = [
    EVERY_SECOND,
    "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=SECONDLY",
    "FREQ=DAILY;UNTIL=99991231T235959",
    "FREQ=DAILY;COUNT=99999999999999999999",
    "FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1",
]
NUMBERS = [2**63, -(2**63) - 1, 2**64, 10**30, -1, 0, 1.5, 1e308, float("inf"), float("nan")]
OTHERS: list[Any] = [True, False, None, [], {}, "1", 1, DEEP]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VALUES = st.sampled_from([*TEXTS, *TIMES, *ZONES, *NUMBERS, *OTHERS]) | JSON_VALUES


def like(value: Any, key: Any) -> st.SearchStrategy[Any]:
    """Hostile values of the kind `value` (at `key`) is, and now and then anything at all."""
    if key == "timezone":
        kind = st.sampled_from(ZONES)
    elif key == "rule":
        kind = st.sampled_from(RULES)
    elif isinstance(value, str) and value[:4].isdigit():
        kind = st.sampled_from(TIMES)
    elif isinstance(value, str):
        kind = st.sampled_from(TEXTS) | st.text(max_size=40)
    elif isinstance(value, bool):
        kind = st.sampled_from(["yes", "true", 1, 0, None])
    elif isinstance(value, int | float):
        kind = st.sampled_from(NUMBERS)
    else:
        kind = st.sampled_from(OTHERS)
    return st.one_of(kind, kind, kind, VALUES)


@dataclass(frozen=True)
class Live:
    url: str
    post_id: str
    audience_id: str
    contact_id: str
    campaign_id: str
    endpoint_id: str
    delivery_id: str
    scheduled_id: str  # a post due far ahead, for the reschedule route (a draft cannot move)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    content: bytes | None
    content_type: str = "application/json"


# The document the live app serves (checked below); built without I/O, as every app is.
DOCUMENT = create_app(
    Settings(
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"),
        mongo=MongoSettings(uri="mongodb://127.0.0.1:9/"),
    ),
    api_keys=FakeKeys(),
    integrations=FakeIntegrations(),
).openapi()
WRITE_ROUTES = sorted(
    (method.upper(), path)
    for path, operations in DOCUMENT["paths"].items()
    for method in operations
    if method.upper() in WRITES
)

POST: dict[str, Any] = {
    "content": {
        "text": "hello",
        "media": [{"kind": "image", "url": "https://cdn.example.com/a.jpg", "size_bytes": 10}],
    },
    "targets": [
        {"integration_id": "fb-1", "platform": "facebook"},
        {
            "integration_id": "tiktok-1",
            "platform": "tiktok",
            "options": {"platform": "tiktok", "privacy_level": "SELF_ONLY", "disable_duet": True},
        },
    ],
    "schedule": {"publish_at": "2031-03-30T09:00:00", "timezone": "Europe/Lisbon"},
    "external_ref": "crm-1",
    "draft": True,
}
SCHEDULE = {"schedule": {"publish_at": "2031-03-30T09:00:00+01:00", "timezone": "Europe/Lisbon"}}
RESCHEDULE = {"publish_at": "2031-04-02T10:30:00", "timezone": "Europe/Lisbon"}
CAMPAIGN = {
    "name": "weekly",
    "recurrence": {
        "rule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
        "timezone": "Europe/Lisbon",
        "starts_at": "2031-01-06T09:00:00",
    },
    "template": {
        "content": {"text": "weekly"},
        "targets": [{"integration_id": "fb-1", "platform": "facebook"}],
    },
}
AUDIENCE = {"name": "customers", "description": "all", "fields": ["city"]}
CONTACT = {
    "phone": "+351912345678",
    "name": "Ana",
    "opted_in": True,
    "opted_in_at": "2026-05-01T10:00:00+01:00",
    "fields": {"city": "Porto"},
}
OPT_OUT = {"phone": "+351912345699"}
# Loopback over http is allowed by the live service's settings below: nothing listens there, and
# the delivery loop is off, so a ping is recorded and never sent.
ENDPOINT = {
    "url": "http://127.0.0.1:9/hook",
    "event_types": ["post.accepted", "target.failed"],
    "description": "property test",
    "enabled": True,
}
ENDPOINT_UPDATE = {"description": "changed", "enabled": False, "event_types": ["post.finished"]}
ROTATE = {"overlap_s": 60}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in `value` a mutation can touch, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def broken(draw: st.DrawFn, base: Any) -> Any:
    """`base` with one to three mutations, or arbitrary JSON instead of it."""
    if draw(st.integers(0, 9)) == 0:
        return draw(VALUES)
    value = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(value)))
        value = mutate(value, where, draw(st.sampled_from(["replace", "add", "drop"])), draw)
    return value


def mutate(value: Any, where: tuple[Any, ...], how: str, draw: st.DrawFn) -> Any:
    if not where:
        return draw(VALUES) if how == "replace" else value
    parent = value
    for step in where[:-1]:
        parent = parent[step]
    last = where[-1]
    if how == "replace":
        parent[last] = draw(like(parent[last], last))
    elif how == "drop" and isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent[last], dict):
        unknown = draw(st.sampled_from(["evil", "\ud800", "nul\x00", "", "x" * 300]))
        parent[last][unknown] = draw(VALUES)
    return value


def encode(value: Any) -> bytes:
    text = json.dumps(value)  # ASCII: a lone surrogate travels as its escape, as JSON allows
    return text.replace(json.dumps(DEEP), "[" * 50_000 + "]" * 50_000).encode()


def json_call(method: str, path: str, base: Any) -> st.SearchStrategy[Call]:
    return broken(base).map(lambda body: Call(method, path, encode(body)))


def no_body_call(method: str, path: Callable[[str], str], known: str) -> st.SearchStrategy[Call]:
    """Routes whose input is their path: the known id or a hostile one (percent-encoded as a
    client would send it), and whatever body comes along."""
    raw = st.sampled_from(["\ud800", "a" * 65, "..", "\x00", known]) | st.text(max_size=20)
    ids = raw.map(lambda i: quote(i.encode("utf-8", "surrogatepass"), safe=""))
    body = st.none() | VALUES.map(encode)
    return st.builds(lambda i, b: Call(method, path(i), b), ids, body)


def import_call(live: Live) -> st.SearchStrategy[Call]:
    path = f"/v1/audiences/{live.audience_id}/imports"
    rows = broken([CONTACT, {**CONTACT, "phone": "+351912345670"}])
    as_json = rows.map(lambda r: Call("POST", path, encode(r)))
    cell = st.text(max_size=12) | st.sampled_from(["\x00", '"', "9999-12-31T23:00:00-05:00"])
    cells = st.lists(st.lists(cell, max_size=6), max_size=5)
    as_csv = cells.map(
        lambda r: Call(
            "POST",
            path,
            ("phone,opted_in,opted_in_at,city\n" + "\n".join(",".join(c) for c in r)).encode(
                "utf-8", "surrogatepass"
            ),
            "text/csv",
        )
    )
    odd_type = VALUES.map(lambda v: Call("POST", path, encode(v), "application/xml"))
    return as_json | as_csv | odd_type


def strategies(live: Live) -> dict[tuple[str, str], st.SearchStrategy[Call]]:
    post, audience = f"/v1/posts/{live.post_id}", f"/v1/audiences/{live.audience_id}"
    endpoint = f"/v1/webhooks/endpoints/{live.endpoint_id}"
    return {
        ("POST", "/v1/posts"): json_call("POST", "/v1/posts", POST),
        ("POST", "/v1/posts/{post_id}/schedule"): json_call("POST", f"{post}/schedule", SCHEDULE),
        ("POST", "/v1/posts/{post_id}/reschedule"): json_call(
            "POST", f"/v1/posts/{live.scheduled_id}/reschedule", RESCHEDULE
        ),
        ("POST", "/v1/posts/{post_id}/cancel"): no_body_call(
            "POST", lambda i: f"/v1/posts/{i}/cancel", live.post_id
        ),
        ("POST", "/v1/posts/{post_id}/retry"): no_body_call(
            "POST", lambda i: f"/v1/posts/{i}/retry", live.post_id
        ),
        ("POST", "/v1/posts/{post_id}/analytics/refresh"): no_body_call(
            "POST", lambda i: f"/v1/posts/{i}/analytics/refresh", live.post_id
        ),
        ("DELETE", "/v1/posts/{post_id}"): no_body_call(
            "DELETE", lambda i: f"/v1/posts/{i}", live.post_id
        ),
        ("POST", "/v1/campaigns"): json_call("POST", "/v1/campaigns", CAMPAIGN),
        ("POST", "/v1/campaigns/{campaign_id}/end"): no_body_call(
            "POST", lambda i: f"/v1/campaigns/{i}/end", live.campaign_id
        ),
        ("POST", "/v1/audiences"): json_call("POST", "/v1/audiences", AUDIENCE),
        ("DELETE", "/v1/audiences/{audience_id}"): no_body_call(
            "DELETE", lambda i: f"/v1/audiences/{i}", "au_unknown"
        ),
        ("POST", "/v1/audiences/{audience_id}/contacts"): json_call(
            "POST", f"{audience}/contacts", CONTACT
        ),
        ("DELETE", "/v1/audiences/{audience_id}/contacts/{contact_id}"): no_body_call(
            "DELETE", lambda i: f"{audience}/contacts/{i}", live.contact_id
        ),
        ("POST", "/v1/audiences/{audience_id}/imports"): import_call(live),
        ("POST", "/v1/opt-outs"): json_call("POST", "/v1/opt-outs", OPT_OUT),
        ("POST", "/v1/webhooks/endpoints"): json_call("POST", "/v1/webhooks/endpoints", ENDPOINT),
        ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): json_call(
            "PATCH", f"{endpoint}", ENDPOINT_UPDATE
        ),
        ("DELETE", "/v1/webhooks/endpoints/{endpoint_id}"): no_body_call(
            "DELETE", lambda i: f"/v1/webhooks/endpoints/{i}", "we_unknown"
        ),
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"): json_call(
            "POST", f"{endpoint}/rotate-secret", ROTATE
        ),
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/ping"): no_body_call(
            "POST", lambda i: f"/v1/webhooks/endpoints/{i}/ping", live.endpoint_id
        ),
        ("POST", "/v1/webhooks/deliveries/{delivery_id}/redeliver"): no_body_call(
            "POST", lambda i: f"/v1/webhooks/deliveries/{i}/redeliver", live.delivery_id
        ),
    }


def with_(base: Any, where: tuple[Any, ...], value: Any) -> Any:
    changed = json.loads(json.dumps(base))
    parent = changed
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value
    return changed


def found_by_the_review(live: Live) -> dict[tuple[str, str], list[Call]]:
    """The cases the review found, tried on every run before the generated ones."""
    post, audience = f"/v1/posts/{live.post_id}", f"/v1/audiences/{live.audience_id}"
    bodies: dict[tuple[str, str], tuple[str, list[Any]]] = {
        ("POST", "/v1/posts"): (
            "/v1/posts",
            [
                with_(POST, ("schedule",), {"publish_at": "9999-12-31T23:59:59-05:00"}),
                with_(POST, ("schedule",), {"publish_at": "0001-01-01T00:00:00+01:00"}),
                with_(POST, ("schedule", "timezone"), "Europe"),
                with_(POST, ("content", "text"), "\ud800"),
                with_(POST, ("content", "evil"), 1),
                with_(POST, ("targets", 0, "evil"), 1),
                with_(POST, ("draft",), "yes"),
                with_(POST, ("content", "media", 0, "size_bytes"), 2**64),
            ],
        ),
        ("POST", "/v1/posts/{post_id}/schedule"): (
            f"{post}/schedule",
            [
                {"schedule": {"publish_at": "9999-12-31T23:59:59-05:00"}},
                {"schedule": {"publish_at": "2031-01-01T09:00:00", "timezone": "Europe"}},
            ],
        ),
        ("POST", "/v1/posts/{post_id}/reschedule"): (
            f"/v1/posts/{live.scheduled_id}/reschedule",
            [
                {"publish_at": "9999-12-31T23:59:59-05:00"},
                {"publish_at": "0001-01-01T00:00:00+01:00"},
                {"publish_at": "2031-01-01T09:00:00", "timezone": "Europe"},
                {"publish_at": 1900000000},
            ],
        ),
        ("POST", "/v1/campaigns"): (
            "/v1/campaigns",
            [
                with_(CAMPAIGN, ("recurrence", "rule"), EVERY_SECOND),
                with_(CAMPAIGN, ("recurrence", "rule"), "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30"),
                with_(CAMPAIGN, ("recurrence", "timezone"), "Europe"),
                with_(CAMPAIGN, ("recurrence", "starts_at"), "9999-12-31T23:59:59"),
                with_(CAMPAIGN, ("name",), "\ud800"),
            ],
        ),
        ("POST", "/v1/audiences"): ("/v1/audiences", [with_(AUDIENCE, ("name",), "\ud800")]),
        ("POST", "/v1/audiences/{audience_id}/contacts"): (
            f"{audience}/contacts",
            [
                with_(CONTACT, ("opted_in_at",), "0001-01-01T00:00:00+01:00"),
                with_(CONTACT, ("name",), "\ud800"),
                with_(CONTACT, ("name",), "nul\x00"),
            ],
        ),
        ("POST", "/v1/audiences/{audience_id}/imports"): (
            f"{audience}/imports",
            [
                [CONTACT, DEEP],
                [with_(CONTACT, ("opted_in_at",), "0001-01-01T00:00:00+01:00")],
                [with_(CONTACT, ("name",), "\ud800")],
            ],
        ),
        ("POST", "/v1/opt-outs"): ("/v1/opt-outs", [{"phone": "\ud800"}]),
    }
    found = {
        route: [Call(route[0], path, encode(body)) for body in sent]
        for route, (path, sent) in bodies.items()
    }
    found[("POST", "/v1/audiences/{audience_id}/imports")].append(
        Call(
            "POST",
            f"{audience}/imports",
            b"phone,opted_in,name\n+351912345678,yes,a\x00b\n",
            "text/csv",
        )
    )
    return found


@pytest.fixture(scope="module")
def live(infra: InfraEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.")
    asyncio.run(provision_topics(infra.kafka_bootstrap, topic_specs(names)))
    database = f"t{uuid.uuid4().hex[:12]}"
    env = {
        "HERALD_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "HERALD_MONGO_URI": infra.mongo_uri,
        "HERALD_SCHEDULER_DATABASE": database,
        "HERALD_SCHEDULER_TOPIC_PREFIX": names.prefix,
        "HERALD_SCHEDULER_CAMPAIGNS__ENABLED": "false",
        "HERALD_SCHEDULER_DISPATCH__ENABLED": "false",  # drafts and refusals: nothing to send
        "HERALD_SCHEDULER_WEBHOOKS__ENABLED": "false",  # endpoints and deliveries, never sent
        "HERALD_SCHEDULER_WEBHOOKS__ALLOW_LOOPBACK": "true",
        "HERALD_SCHEDULER_WEBHOOKS__ALLOWED_SCHEMES": '["https", "http"]',
        "HERALD_SCHEDULER_WEBHOOKS__ALLOWED_PORTS": "null",
    }
    log = str(tmp_path_factory.mktemp("property") / "scheduler.log")
    server = ServiceProcess(env, log, fake_auth=True)
    asyncio.run(server.start())
    try:
        yield _seed(server.url)
    finally:
        server.stop()
        with MongoClient[dict[str, Any]](infra.mongo_uri) as mongo:
            mongo.drop_database(database)


def _seed(url: str) -> Live:
    """A draft post, a scheduled one, an audience with a contact, a campaign, a webhook
    endpoint and a delivery (its ping) for the routes that need ids."""
    with httpx.Client(base_url=url, headers=auth(), timeout=60) as http:
        draft = {**POST, "targets": POST["targets"][:1]}
        post = http.post("/v1/posts", json=draft).json()["post_id"]
        scheduled = http.post("/v1/posts", json={**draft, "draft": False}).json()["post_id"]
        audience = http.post("/v1/audiences", json=AUDIENCE).json()["audience_id"]
        contact = http.post(f"/v1/audiences/{audience}/contacts", json=CONTACT).json()
        campaign = http.post("/v1/campaigns", json=CAMPAIGN).json()["campaign_id"]
        made = http.post("/v1/webhooks/endpoints", json=ENDPOINT)
        assert made.status_code == 201, made.text
        endpoint = made.json()["id"]
        ping = http.post(f"/v1/webhooks/endpoints/{endpoint}/ping")
        assert ping.status_code == 202, ping.text
    delivery = ping.json()["id"]
    return Live(url, post, audience, contact["contact_id"], campaign, endpoint, delivery, scheduled)


def test_every_write_route_of_the_document_has_a_strategy(live: Live) -> None:
    assert sorted(strategies(live)) == WRITE_ROUTES
    served = httpx.get(f"{live.url}/openapi.json", timeout=30).json()
    assert served == DOCUMENT


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_no_body_gets_a_server_error(live: Live, route: tuple[str, str]) -> None:
    @settings(
        max_examples=100,
        derandomize=True,  # the same examples on every run: CI is reproducible
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(call=strategies(live)[route])
    def answers_below_500(call: Call) -> None:
        answer = httpx.request(
            call.method,
            f"{live.url}{call.path}",
            content=call.content,
            headers=auth(**{"Content-Type": call.content_type}),
            timeout=120,
        )
        assert answer.status_code < 500, (call, answer.status_code, answer.text[:500])
        if answer.status_code >= 400:
            assert {"error", "message"} <= set(answer.json()), answer.text[:500]

    for call in found_by_the_review(live).get(route, []):
        answers_below_500 = example(call=call)(answers_below_500)
    answers_below_500()
