"""An expansion that fails half-way (MongoDB gone between two writes) is taken up again and goes
on from what it wrote: batches whose recipients were written get their targets, the rest are
split afresh (without a contact who opted out meanwhile), and no contact is in two batches. A
failed batch retried goes to the same recipients, rebuilt from their documents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry
from pymongo.errors import AutoReconnect

from herald.errors import ErrorCategory
from herald.events import FailureDetail, PostFailed, PostSubmitted
from herald.testing import RecordingEmitter
from herald.topics import Platform
from scheduler.adapters.posts import MongoPosts
from scheduler.expander import Expander
from scheduler.handlers import audiences, manage
from scheduler.handlers.base import Deps
from scheduler.handlers.lifecycle import record_result
from scheduler.handlers.submit import submit
from scheduler.metrics import SchedulerMetrics
from scheduler.models import Target
from scheduler.settings import BroadcastSettings
from scheduler.testing import SchedulerEnv
from scheduler.workers import build_stores

pytestmark = pytest.mark.connected


class CrashingPosts(MongoPosts):
    """Posts whose second batch of targets never lands: the store goes away mid-expansion."""

    calls = 0

    async def insert_targets(self, targets: Sequence[Target]) -> None:
        self.calls += 1
        if self.calls == 2:
            msg = "connection lost"
            raise AutoReconnect(msg)
        await super().insert_targets(targets)


async def broadcast_to(deps: Deps, contacts: int) -> str:
    """A broadcast to an audience of `contacts` opted-in contacts, submitted (not expanded);
    the post's id."""
    audience = (await audiences.create_audience(deps, "biz-a", "a", None, [])).audience
    rows = "".join(f"+3519{n:08d},yes\n" for n in range(contacts))
    data = f"phone,opted_in\n{rows}".encode()
    await audiences.import_contacts(deps, "biz-a", audience.id, data, "text/csv", max_rows=999)
    options = {"platform": "whatsapp", "audience_id": audience.id, "template": TEMPLATE}
    submission = PostSubmitted.model_validate(
        {
            "business_id": "biz-a",
            "idempotency_key": "k",
            "content": {},
            "targets": [{"integration_id": "wa-1", "platform": "whatsapp", "options": options}],
        }
    )
    return (await submit(deps, submission, source="api")).post.id


def deps_for(env: SchedulerEnv, posts: MongoPosts, batch_size: int) -> Deps:
    stores = build_stores(env.db.client, env.db.name)
    env.integrations.add("wa-1", platform=Platform.WHATSAPP)
    return Deps(
        posts=posts,
        dispatch=stores.dispatch,
        view=stores.view,
        integrations=env.integrations,
        campaigns=stores.campaigns,
        audiences=stores.audiences,
        recipients=stores.recipients,
        emitter=RecordingEmitter(),
        names=env.names,
        batch_size=batch_size,
    )


async def test_an_interrupted_expansion_goes_on_without_losing_or_repeating_anyone(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    stores = build_stores(env.db.client, env.db.name)
    await stores.ensure_indexes()
    crashing = CrashingPosts(env.db)
    deps = deps_for(env, crashing, batch_size=2)  # 95 contacts: 48 batches, 20 per write
    post_id = await broadcast_to(deps, 95)
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
    queued = await env.db["pending"].find({"post_id": post_id}).to_list()
    fact = await env.db["dispatches"].find_one({"target_id": f"{post_id}-0"})
    assert written == 80  # two writes of 20 batches of 2; the second lost its targets
    sent = [q["request"]["options"]["recipients"] for q in queued]
    numbers = Counter(r["to"] for recipients in sent for r in recipients)
    assert len(numbers) == 94
    assert set(numbers.values()) == {1}
    assert "+351900000094" not in numbers
    assert len(batches) == len(queued) == 47
    assert {q["target_id"] for q in queued} == {b["_id"] for b in batches}
    assert all(len(recipients) <= 2 for recipients in sent)
    assert fact is not None
    assert fact["broadcast"]["batches"] == 47
    assert fact["broadcast"]["excluded"] == {"opted_out": 1}
    assert await env.db["broadcast_queue"].count_documents({}) == 0


TEMPLATE = {"name": "welcome", "language": "en_US", "components": []}


async def test_a_failed_batch_is_retried_with_the_same_recipients(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    stores = build_stores(env.db.client, env.db.name)
    await stores.ensure_indexes()
    deps = deps_for(env, stores.posts, batch_size=3)
    post_id = await broadcast_to(deps, 7)
    expander = Expander(
        deps, SchedulerMetrics.create(CollectorRegistry()), BroadcastSettings(), owner="t"
    )
    await expander.run_once()
    first = await env.db["pending"].find_one({"target_id": f"{post_id}-0.2"})
    assert first is not None
    error = FailureDetail(category=ErrorCategory.PERMANENT, code="131000", message="down")
    failure = PostFailed(
        post_id=post_id,
        target_id=f"{post_id}-0.2",
        business_id="biz-a",
        integration_id="wa-1",
        platform=Platform.WHATSAPP,
        attempt=1,
        final=True,
        error=error,
        failed_at=datetime.now(UTC),
    )
    await record_result(deps, failure, event_id="e1", occurred_at=datetime.now(UTC))
    changed = await manage.retry(deps, "biz-a", post_id)
    again = await env.db["pending"].find_one({"_id": f"{post_id}-0.2:2"})
    assert changed.target_ids == [f"{post_id}-0.2"]
    assert again is not None
    recipients = again["request"]["options"]["recipients"]
    assert recipients == first["request"]["options"]["recipients"]
    assert len(recipients) == 3
