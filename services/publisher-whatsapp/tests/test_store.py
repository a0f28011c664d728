"""What a status webhook asks of the message log is what FerretDB answers without reading the
whole collection: a find or an insert by `_id`, never an `$in` and never an update (each is a
scan there, so every webhook would cost a read of the whole log or of every status so far)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document
from publisher_whatsapp.adapters.store import EMITTED, MESSAGES, STATUSES, MongoMessages

pytestmark = pytest.mark.unit


class _Collection:
    """Answers `find_one` by `_id` equality and `insert_one` under a unique `_id`, recording
    every filter; refuses `find` and `update_one` (scans on FerretDB)."""

    def __init__(self, documents: list[Document] | None = None) -> None:
        self.documents = {str(d["_id"]): d for d in documents or []}
        self.filters: list[dict[str, Any]] = []

    async def find_one(self, query: dict[str, Any], *_: Any) -> Document | None:
        self.filters.append(query)
        key = query.get("_id")
        return self.documents.get(key) if isinstance(key, str) else None

    async def insert_one(self, document: Document) -> None:
        if document["_id"] in self.documents:
            raise DuplicateKeyError("E11000 duplicate key error")
        self.documents[str(document["_id"])] = document

    def find(self, query: dict[str, Any], *_: Any) -> None:
        raise AssertionError(f"a webhook must not scan a collection: find({query})")

    def update_one(self, query: dict[str, Any], *_: Any) -> None:
        raise AssertionError(f"a webhook must not update (a scan on FerretDB): {query}")


class _Database:
    def __init__(self, **collections: _Collection) -> None:
        self.collections = collections

    def __getitem__(self, name: str) -> _Collection:
        return self.collections.setdefault(name, _Collection())


def _store(database: _Database) -> MongoMessages:
    return MongoMessages(cast(AsyncDatabase[Document], database))


def _logged(message_id: str) -> Document:
    return {
        "_id": message_id,
        "phone_number_id": "106540352242922",
        "post_id": "post_1",
        "target_id": "post_1-0.1",
        "business_id": "biz_1",
        "integration_id": "int_1",
        "recipient_id": f"r-{message_id}",
        "to": "+15552000001",
        "sent_at": datetime(2026, 11, 26, tzinfo=UTC),
    }


async def test_statuses_find_their_messages_by_id_equality_only() -> None:
    ids = [f"wamid.{i}" for i in range(40)]
    messages = _Collection([_logged(i) for i in ids])
    store = _store(_Database(**{MESSAGES: messages}))

    asked = [*ids, "wamid.unknown", ids[0]]  # more than one round, an unknown id, a repeat
    found = await store.messages(asked)

    assert set(found) == set(ids)
    assert found["wamid.7"].recipient_id == "r-wamid.7"
    assert found["wamid.7"].target_id == "post_1-0.1"
    assert sorted(f["_id"] for f in messages.filters) == sorted([*ids, "wamid.unknown"])
    assert all(set(f) == {"_id"} and isinstance(f["_id"], str) for f in messages.filters)
    assert await store.messages([]) == {}


async def test_a_status_is_claimed_once_emitted_by_inserts_only() -> None:
    database = _Database()
    store = _store(database)

    assert await store.claim("wamid.1", "delivered")
    # Its event did not go out (the produce failed): the next delivery claims it again.
    assert await store.claim("wamid.1", "delivered")
    await store.emitted("wamid.1", "delivered")
    await store.emitted("wamid.1", "delivered")  # a second mark changes nothing
    assert not await store.claim("wamid.1", "delivered")
    assert await store.claim("wamid.1", "read")  # another status of the message
    assert set(database[EMITTED].documents) == {"wamid.1:delivered"}


async def test_a_claim_marked_emitted_in_place_before_the_markers_is_a_duplicate() -> None:
    statuses = _Collection([{"_id": "wamid.1:sent", "status": "sent", "emitted": True}])
    store = _store(_Database(**{STATUSES: statuses}))

    assert not await store.claim("wamid.1", "sent")
