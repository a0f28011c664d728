"""Fill a bench run's databases with many finished posts of one business, quickly.

A measured run must show what a business that has used Herald for months sees, not a fresh
store. Submitting 50,000 posts through the API would take longer than the run itself, so posts
that went through the whole system first (submitted, dispatched, published) serve as templates:
every document they left in the scheduler's and the Facebook publisher's databases (post,
target, history, claims, dispatch facts, ledger entry, leases) is copied under new ids, in
batches, straight into those databases. The copies are what the services themselves wrote, so
their shapes and indexed fields are real. A copied post is numbered after the business's posts
so far, and its business's counter moves on with the copies (scheduler.adapters.listing), as
if the business had submitted them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from scheduler.adapters.listing import PAGE_SIZE

Doc = dict[str, Any]
BATCH = 1_000

# Collections holding a post's documents, by the field that names the post or its target.
SCHEDULER = {
    "posts": "_id",
    "targets": "post_id",
    "history": "post_id",
    "dispatches": "post_id",
    "claims": "target_id",
}
PUBLISHER = {"ledger": "post_id", "ledger_leases": "target_id"}


async def _documents_of(db: AsyncDatabase[Doc], post_id: str) -> dict[str, list[Doc]]:
    target = f"{post_id}-0"
    found: dict[str, list[Doc]] = {}
    for name, field in {**SCHEDULER, **PUBLISHER}.items():
        if name not in await db.list_collection_names():
            continue
        key = post_id if field in ("_id", "post_id") else target
        found[name] = await db[name].find({field: key}).to_list()
    return found


def _business_of(
    sources: list[tuple[AsyncDatabase[Doc], str, dict[str, list[Doc]]]], name: str
) -> str | None:
    """The business of the scheduler posts among the templates of database `name`, if any."""
    for db, _, documents in sources:
        for post in documents.get("posts", []) if db.name == name else []:
            if "page" in post:
                return str(post["business_id"])
    return None


async def _counted(
    client: AsyncMongoClient[Doc],
    databases: list[str],
    sources: list[tuple[AsyncDatabase[Doc], str, dict[str, list[Doc]]]],
) -> int:
    """How many posts the templates' business had counted before the copies."""
    for name in databases:
        business = _business_of(sources, name)
        if business is not None:
            counter = await client[name]["post_pages"].find_one({"_id": business})
            return int(counter["n"]) if counter else 0
    return 0


def _copy(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _copy(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v, old, new) for v in value]
    return value


def _clone(doc: Doc, old_post: str, new_post: str, serial: int, counted: int) -> Doc:
    copy: Doc = _copy(doc, old_post, new_post)
    if "page" in copy:  # a scheduler post: the next number of its business
        copy["page"] = (counted + serial - 1) // PAGE_SIZE
    if old_post not in str(doc["_id"]):  # e.g. history "event:<uuid>": unique per copy
        copy["_id"] = f"{doc['_id']}~{serial}"
    if "idempotency_key" in copy:
        copy["idempotency_key"] = f"prefill-{new_post}"
    return copy


async def prefill(
    mongo_uri: str,
    databases: list[str],
    templates: list[str],
    count: int,
    say: Callable[[str], None] = print,
) -> float:
    """Copy the documents of `templates` (post ids) until `count` posts exist; seconds taken."""
    began = time.perf_counter()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        sources = [
            (client[name], post_id, await _documents_of(client[name], post_id))
            for name in databases
            for post_id in templates
        ]
        counted = await _counted(client, databases, sources)
        made = 0
        while made < count:
            batch: dict[tuple[str, str], list[Doc]] = {}
            for _ in range(min(BATCH, count - made)):
                made += 1
                template = templates[made % len(templates)]
                new_post = f"p_{uuid.uuid4().hex}"
                for db, post_id, documents in sources:
                    if post_id != template:
                        continue
                    for collection, docs in documents.items():
                        copies = [_clone(d, post_id, new_post, made, counted) for d in docs]
                        batch.setdefault((db.name, collection), []).extend(copies)
            for (database, collection), docs in batch.items():
                await client[database][collection].insert_many(docs, ordered=False)
            if made % 10_000 == 0:
                say(f"  prefill: {made} posts stored")
        for name in databases:  # the business's counter moves on past the copies
            business = _business_of(sources, name)
            if business is not None:
                await client[name]["post_pages"].update_one(
                    {"_id": business}, {"$inc": {"n": made}}, upsert=True
                )
    finally:
        await client.close()
    return time.perf_counter() - began
