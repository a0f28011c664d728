"""An expansion that fails half-way (MongoDB gone between two writes) is taken up again and goes
on from what it wrote: batches whose recipients were written get their targets, the rest are
split afresh (without a contact who opted out meanwhile), and no contact is in two batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from prometheus_client import CollectorRegistry
from pymongo.errors import AutoReconnect

from herald.events import PostSubmitted
from herald.testing import RecordingEmitter
from herald.topics import Platform
from scheduler.adapters.posts import MongoPosts
from scheduler.app import build_stores
from scheduler.expander import Expander
from scheduler.handlers import audiences
from scheduler.handlers.base import Deps
from scheduler.handlers.submit import submit
from scheduler.metrics import SchedulerMetrics
from scheduler.ports import Doc
from scheduler.settings import BroadcastSettings
from scheduler.testing import SchedulerEnv

pytestmark = pytest.mark.connected


class CrashingPosts(MongoPosts):
    """Posts whose second batch of targets never lands: the store goes away mid-expansion."""

    calls = 0

    async def insert_targets(self, targets: Sequence[Doc]) -> None:
        self.calls += 1
        if self.calls == 2:
            msg = "connection lost"
            raise AutoReconnect(msg)
        await super().insert_targets(targets)


async def test_an_interrupted_expansion_goes_on_without_losing_or_repeating_anyone(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    stores = build_stores(env.db.client, env.db.name)
    await stores.ensure_indexes()
    crashing = CrashingPosts(env.db)
    deps = Deps(
        posts=crashing,
        dispatch=stores.dispatch,
        view=stores.view,
        integrations=env.integrations,
        campaigns=stores.campaigns,
        audiences=stores.audiences,
        recipients=stores.recipients,
        emitter=RecordingEmitter(),
        names=env.names,
        batch_size=2,  # 95 contacts: 48 batches, written 20 at a time
    )
    audience = await audiences.create_audience(deps, "biz-a", "a", None, [])
    rows = "".join(f"+3519{n:08d},yes\n" for n in range(95))
    await audiences.import_contacts(
        deps, "biz-a", audience["_id"], f"phone,opted_in\n{rows}".encode(), "text/csv", max_rows=99
    )
    options = {"platform": "whatsapp", "audience_id": audience["_id"], "template": TEMPLATE}
    submission = PostSubmitted.model_validate(
        {
            "business_id": "biz-a",
            "idempotency_key": "k",
            "content": {},
            "targets": [{"integration_id": "wa-1", "platform": "whatsapp", "options": options}],
        }
    )
    post = (await submit(deps, submission, source="api")).post
    crashing.calls = 0  # the broadcast target itself went in; now its batches
    metrics = SchedulerMetrics.create(CollectorRegistry())
    expander = Expander(deps, metrics, BroadcastSettings(), owner="test")
    with pytest.raises(AutoReconnect):
        await expander.run_once()
    written = await env.db["recipients"].count_documents({})
    await audiences.opt_out(deps, "biz-a", "+351900000094")  # not taken yet: left out
    deps.posts = stores.posts
    assert await expander.run_once() == 1
    batches = await env.db["targets"].find({"role": "batch"}).to_list()
    queued = await env.db["pending"].count_documents({"post_id": post["_id"]})
    fact = await env.db["dispatches"].find_one({"target_id": f"{post['_id']}-0"})
    assert written == 80  # two writes of 20 batches of 2; the second lost its targets
    numbers = Counter(r["to"] for b in batches for r in b["options"]["recipients"])
    assert len(numbers) == 94
    assert set(numbers.values()) == {1}
    assert "+351900000094" not in numbers
    assert len(batches) == queued == 47
    assert all(len(b["options"]["recipients"]) <= 2 for b in batches)
    assert fact is not None
    assert fact["broadcast"]["batches"] == 47
    assert fact["broadcast"]["excluded"] == {"opted_out": 1}
    assert await env.db["broadcast_queue"].count_documents({}) == 0


TEMPLATE = {"name": "welcome", "language": "en_US", "components": []}
