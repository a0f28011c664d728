"""This publisher's own MongoDB collections beside the runtime's ledger (docs/architecture.md,
"Store rules": unique-index inserts for de-duplication, single-document writes, no transactions).

- `wa_messages`: one document per accepted message (`_id` = message id): what its status
  webhooks are about. Indexed by target, for resuming a batch.
- `wa_numbers`: the phone numbers Herald sends from (`_id` = phone number id); webhooks about
  any other number are refused.
- `wa_statuses`: one document per (message id, status) (`_id` = `<message id>:<status>`): the
  claim that makes each status one event.
- `wa_statuses_emitted`: one document per claimed status whose event went out (same `_id`). An
  insert rather than an update of the claim: FerretDB reads the whole collection for an update,
  even one by `_id` (≈60 ms at 7,000 statuses, and each message adds three).
- `wa_contact_flags`: contacts found undeliverable or opted out, once per (business, number,
  reason), with whether `herald.message.recipient_flagged.v1` went out for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from herald.mongo import Document
from herald.retention import Rule
from publisher_whatsapp.ports import ContactFlag, SentMessage

MESSAGES = "wa_messages"
NUMBERS = "wa_numbers"
STATUSES = "wa_statuses"
EMITTED = "wa_statuses_emitted"
FLAGS = "wa_contact_flags"

# What the retention sweep deletes once older than `retention.keep_days` (herald.retention): a
# status for a message gone from the log is dropped like any for an unknown message; a contact
# flagged again after its claim is gone is told to the scheduler again, which suppresses once.
RETENTION = (
    Rule(MESSAGES, "sent_at"),
    Rule(STATUSES, "claimed_at"),
    Rule(EMITTED, "at"),
    Rule(FLAGS, "observed_at", {"relayed": True}),
)
_DUPLICATE = 11000
_LOOKUPS_AT_ONCE = 32


class MongoMessages:
    """`MessageLog` and `StatusStore` on MongoDB."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._messages = db[MESSAGES]
        self._numbers = db[NUMBERS]
        self._statuses = db[STATUSES]
        self._emitted = db[EMITTED]
        self._known: set[str] = set()

    async def ensure_indexes(self) -> None:
        await self._messages.create_index([("target_id", 1)])

    async def record(self, messages: Sequence[SentMessage]) -> None:
        documents = [_document(m) for m in messages]
        try:
            await self._messages.insert_many(documents, ordered=False)
        except BulkWriteError as exc:  # a message recorded before (a retried write) is fine
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != _DUPLICATE for e in errors):
                raise

    async def sent_for(self, target_id: str) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor = self._messages.find({"target_id": target_id}, {"recipient_id": 1, "sent_at": 1})
        documents = sorted(await cursor.to_list(None), key=lambda d: d["sent_at"])
        for document in documents:  # the first message a recipient got is the one reported
            found.setdefault(str(document["recipient_id"]), str(document["_id"]))
        return found

    async def remember_number(
        self, phone_number_id: str, integration_id: str, business_id: str
    ) -> None:
        document = {
            "_id": phone_number_id,
            "integration_id": integration_id,
            "business_id": business_id,
            "first_seen": datetime.now(UTC),
        }
        with contextlib.suppress(DuplicateKeyError):
            await self._numbers.insert_one(document)
        self._known.add(phone_number_id)

    async def is_known_number(self, phone_number_id: str) -> bool:
        if phone_number_id in self._known:
            return True
        if await self._numbers.find_one({"_id": phone_number_id}, {"_id": 1}) is None:
            return False
        self._known.add(phone_number_id)
        return True

    async def messages(self, message_ids: Sequence[str]) -> dict[str, SentMessage]:
        """One `_id` lookup per message, a few at a time: FerretDB pushes down no filter but
        `_id` equality, so an `$in` reads the whole log (≈0.5 s per webhook at 1,000 messages,
        growing with the log); a delivery carries a few statuses."""
        found: dict[str, SentMessage] = {}
        unique = list(dict.fromkeys(message_ids))
        for start in range(0, len(unique), _LOOKUPS_AT_ONCE):
            chunk = unique[start : start + _LOOKUPS_AT_ONCE]
            documents = await asyncio.gather(*(self._messages.find_one({"_id": i}) for i in chunk))
            found |= {str(d["_id"]): _message(d) for d in documents if d is not None}
        return found

    async def claim(self, message_id: str, status: str) -> bool:
        key = f"{message_id}:{status}"
        document = {
            "_id": key,
            "message_id": message_id,
            "status": status,
            "claimed_at": datetime.now(UTC),
        }
        try:
            await self._statuses.insert_one(document)
        except DuplicateKeyError:
            if await self._emitted.find_one({"_id": key}, {"_id": 1}) is not None:
                return False
            # A claim written before the markers existed was marked `emitted` in place.
            existing = await self._statuses.find_one({"_id": key})
            return existing is not None and not existing.get("emitted", False)
        return True

    async def emitted(self, message_id: str, status: str) -> None:
        document = {"_id": f"{message_id}:{status}", "at": datetime.now(UTC)}
        with contextlib.suppress(DuplicateKeyError):
            await self._emitted.insert_one(document)


class MongoContactFlags:
    """The flags already told to the scheduler: a claim per (business, number, reason) under the
    unique `_id`, marked `relayed` once its event is acknowledged."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._flags = db[FLAGS]

    async def claim(self, flag: ContactFlag) -> bool:
        """True when the flag is new, or was claimed before without its event going out."""
        key = _flag_key(flag)
        try:
            await self._flags.insert_one(asdict(flag) | {"_id": key, "relayed": False})
        except DuplicateKeyError:
            existing = await self._flags.find_one({"_id": key})
            return existing is not None and not existing.get("relayed", False)
        return True

    async def relayed(self, flag: ContactFlag) -> None:
        await self._flags.update_one({"_id": _flag_key(flag)}, {"$set": {"relayed": True}})


def _flag_key(flag: ContactFlag) -> str:
    return f"{flag.business_id}:{flag.to}:{flag.reason}"


def _document(message: SentMessage) -> Document:
    fields = asdict(message)
    return {"_id": fields.pop("message_id"), **fields}


def _message(document: Document) -> SentMessage:
    fields = {k: v for k, v in document.items() if k != "_id"}
    return SentMessage(message_id=str(document["_id"]), **fields)
