"""A large contact import is read off the event loop (issue 19, finding 5): while the scheduler
parses one, it keeps answering `/healthz`. The import is 60,000 rows of JSON with a syntax error
after the last one, so its whole cost is the parse (no insert follows, whose awaits would let
the loop serve anyway); `/healthz` is asked, again and again, from the moment the import's body
has been sent until its answer comes. It must have answered at least once in between; how fast
is not asserted (the benchmark `tests/benchmarks/bench_imports.py` measures that)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from herald.kafka import provision_topics
from herald.topics import TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from scheduler.testing import KEY_A, auth, topic_specs
from scheduler.testprocess import ServiceProcess

pytestmark = pytest.mark.connected

ROWS = 60_000
PATIENCE_S = 300.0  # for the import's answer; the test's bound, not a measurement


@pytest.fixture(scope="module")
def url(infra: InfraEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.")
    asyncio.run(provision_topics(infra.kafka_bootstrap, topic_specs(names)))
    database = f"t{uuid.uuid4().hex[:12]}"
    env = {
        "HERALD_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "HERALD_MONGO_URI": infra.mongo_uri,
        "HERALD_SCHEDULER_DATABASE": database,
        "HERALD_SCHEDULER_TOPIC_PREFIX": names.prefix,
        "HERALD_SCHEDULER_CAMPAIGNS__ENABLED": "false",
    }
    server = ServiceProcess(env, str(tmp_path_factory.mktemp("import") / "log"), fake_auth=True)
    asyncio.run(server.start())
    try:
        yield server.url
    finally:
        server.stop()
        with MongoClient[dict[str, Any]](infra.mongo_uri) as mongo:
            mongo.drop_database(database)


def import_request(audience: str, host: str) -> bytes:
    rows = ",\n".join(
        json.dumps({"phone": f"+3519{n:08d}", "opted_in": True, "name": f"Person {n}"})
        for n in range(ROWS)
    )
    body = f"[\n{rows}\n] trailing".encode()  # read whole, then refused: nothing is inserted
    head = (
        f"POST /v1/audiences/{audience}/imports HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {KEY_A}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def test_healthz_answers_while_a_large_import_is_parsed(url: str) -> None:
    audience = httpx.post(f"{url}/v1/audiences", json={"name": "big"}, headers=auth(), timeout=60)
    host, port = url.removeprefix("http://").split(":")
    request = import_request(audience.json()["audience_id"], host)
    answered_meanwhile = 0
    with (
        socket.create_connection((host, int(port)), timeout=PATIENCE_S) as sock,
        httpx.Client(base_url=url, timeout=PATIENCE_S) as probe,
    ):
        sock.sendall(request)  # returns once the server has taken (nearly) all of it
        sock.setblocking(False)
        answer = b""
        while not answer:
            try:
                healthy = probe.get("/healthz").status_code == 200
            except httpx.RemoteProtocolError:  # an idle keep-alive closed as it was reused (CI,
                healthy = False  # under a load average of 15): no answer, ask again
            try:
                answer = sock.recv(65536)
            except BlockingIOError:
                answered_meanwhile += healthy
        sock.setblocking(True)
        while chunk := sock.recv(65536):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 422"), answer[:300]
    assert b"invalid_json" in answer
    print(f"healthz answered {answered_meanwhile} times during the import")  # noqa: T201 - the figure, for the record
    assert answered_meanwhile >= 3  # more than one answer that a finished parse could release
