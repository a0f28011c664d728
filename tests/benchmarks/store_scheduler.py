"""The scheduler's operations for bench_store.py: submission, replay of an idempotency key,
a dispatcher round, reading a post, recording a result and a delivery status (hot), and for
contrast listing, history, takeover and the metrics sweep.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Awaitable
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from store_workload import (
    BIG,
    DAY,
    NOW,
    Scenario,
    Spread,
    Took,
    ago,
    check,
    clone,
    integration_id,
    timed,
)

from herald.events import IntegrationStatus, PostSubmitted
from herald.mongo import Document
from herald.topics import Platform
from scheduler.adapters.dispatch import MongoDispatch
from scheduler.adapters.integrations import MongoIntegrations as IntegrationView
from scheduler.adapters.listing import PAGE_SIZE, due_day
from scheduler.adapters.posts import MongoPosts
from scheduler.adapters.recipients import MongoRecipients
from scheduler.deliveries import STATUS, Fact, RecordedFact
from scheduler.domain import DueTime, claim_id, dispatch_id
from scheduler.handlers.submit import new_post, new_targets, pending_item
from scheduler.models import (
    DispatchFact,
    HistoryEntry,
    Post,
    TargetChanges,
    TargetState,
)
from scheduler.ports import Claim, IntegrationInfo, PendingItem, PostFilter, Request
from scheduler.settings import DispatchSettings
from scheduler.workers import UNFINISHED


def post_id(i: int) -> str:
    return f"p_fill{i:07d}"


class SchedulerLoad:
    """Posts, targets, history, claims, dispatches, the integration view and delivery facts grow
    to `n`; the `pending` queue stays at `bounded` rows (queue rows are deleted as they are
    dispatched, so its size is the backlog of scheduled work, not the history)."""

    def __init__(self, db: AsyncDatabase[Document], n: int, bounded: int, seed: int) -> None:
        self.db, self.n, self.bounded = db, n, bounded
        self.spread = Spread(n)
        self.rng = random.Random(seed)
        self.posts = MongoPosts(db)
        self.dispatch = MongoDispatch(db)
        self.view = IntegrationView(db)
        self.recipients = MongoRecipients(db)
        self.submitted: list[tuple[str, str]] = []  # (business, post id) submitted in this run
        self.horizon = NOW + timedelta(seconds=DispatchSettings().lookahead_s)

    # -- filling

    async def fill(self) -> list[Awaitable[None]]:
        """Declare the indexes and write one document per collection through the adapters;
        returns the jobs that clone them (run together, across services)."""
        await self.posts.ensure_indexes()
        await self.dispatch.ensure_indexes()
        await self.recipients.ensure_indexes()
        post = self.post(0, ["fb"], due=NOW - timedelta(days=1))
        check(await self.posts.insert_post(post) is None, "the template post was refused")
        target = new_targets(post)[0]
        await self.posts.insert_targets([target])
        await self.posts.add_history(self.created_entry(post))
        claim = Claim(claim_id(target.id, 1, 0), target.id, 1, 0, "bench", "dispatch", NOW)
        await self.dispatch.claim([claim])
        await self.dispatch.record_dispatches([self.fact(pending_item(post, target))])
        info = IntegrationInfo(integration_id(0), BIG, Platform.FACEBOOK, IntegrationStatus.ACTIVE)
        await self.view.observe(info, NOW)
        queued = pending_item(post, target)
        await self.dispatch.add_pending([dataclasses.replace(queued, due_at=NOW + DAY)])
        await self.recipients.add_facts([self.status_fact(target.id, 0)])
        tid = target.id
        rest = range(1, self.n)
        return [
            clone(self.db["posts"], post.id, rest, self._post_clone),
            clone(self.db["targets"], tid, rest, self._target_clone),
            clone(self.db["history"], self.created_entry(post).id, rest, self._history_clone),
            clone(self.db["claims"], claim.id, rest, self._claim_clone),
            clone(self.db["dispatches"], dispatch_id(tid, 1), rest, self._dispatch_clone),
            clone(self.db["integrations"], info.integration_id, rest, self._view_clone),
            clone(self.db["pending"], dispatch_id(tid, 1), range(1, self.bounded), _queued),
            clone(self.db["recipient_facts"], f"{tid}/r0/status:sent", rest, self._fact_clone),
            self._count_posts(),
        ]

    def _number(self, i: int) -> int:
        """Post i's place among its business's posts (0 first), as the counter gave it."""
        return i // 2 if i % 2 == 0 else (i // 2) // max(1, self.n // 40)

    async def _count_posts(self) -> None:
        """Each business's post counter where the clones leave it (scheduler.adapters.listing)."""
        counts: dict[str, int] = {}
        for i in range(self.n):
            business = self.spread.business(i)
            counts[business] = max(counts.get(business, 0), self._number(i) + 1)
        pages = self.db["post_pages"]
        await pages.delete_many({})
        await pages.insert_many([{"_id": b, "n": n} for b, n in counts.items()])

    def _post_clone(self, _: Document, i: int) -> Document:
        pid = post_id(i)
        return {
            "_id": pid,
            "business_id": self.spread.business(i),
            "idempotency_key": f"key-{i:07d}",
            "created_at": ago(self.n - i),
            "due_at": ago(self.n - i),
            "due_day": due_day(ago(self.n - i)),
            "page": self._number(i) // PAGE_SIZE,
            "integration_ids": [integration_id(i)],
            "target_ids": [f"{pid}-0"],
        }

    def _target_clone(self, _: Document, i: int) -> Document:
        pid = post_id(i)
        return {
            "_id": f"{pid}-0",
            "post_id": pid,
            "business_id": self.spread.business(i),
            "integration_id": integration_id(i),
            "state": "published",  # finished targets pile up; unfinished ones are in flight
        }

    def _history_clone(self, _: Document, i: int) -> Document:
        # Two entries per post (created, then its result) for the first half of the posts.
        return {"_id": f"h_fill{i:07d}", "post_id": post_id(max(1, i // 2)), "at": ago(self.n - i)}

    def _claim_clone(self, _: Document, i: int) -> Document:
        target = f"{post_id(i)}-0"
        return {"_id": claim_id(target, 1, 0), "target_id": target}

    def _dispatch_clone(self, _: Document, i: int) -> Document:
        target = f"{post_id(i)}-0"
        return {"_id": dispatch_id(target, 1), "target_id": target, "post_id": post_id(i)}

    def _view_clone(self, _: Document, i: int) -> Document:
        platform = list(Platform)[i % len(Platform)].value
        return {
            "_id": integration_id(i),
            "business_id": self.spread.business(i),
            "platform": platform,
        }

    def _fact_clone(self, template: Document, i: int) -> Document:
        recorded = self.status_fact(f"{post_id(i // 3 + 1)}-0", i)
        return {
            "_id": recorded.fact.id,
            "key": recorded.fact.key,
            "post_id": recorded.post_id,
            "target_id": recorded.target_id,
            "recipient_id": recorded.recipient_id,
        }

    # -- records as the handlers make them

    def post(self, i: int, platforms: list[str], *, due: datetime) -> Post:
        names = {"fb": Platform.FACEBOOK, "ig": Platform.INSTAGRAM}
        submission = PostSubmitted.model_validate(
            {
                "business_id": self.spread.business(i),
                "idempotency_key": f"key-{i:07d}",
                "content": {"text": f"Bench post {i}: what a store holds, cloned for size."},
                "targets": [
                    {"integration_id": integration_id((i + j) % self.n), "platform": names[p]}
                    for j, p in enumerate(platforms)
                ],
            }
        )
        due_time = DueTime(due, None, None)
        return new_post(submission, due_time, "bench", source="api", draft=False, now=NOW)

    @staticmethod
    def created_entry(post: Post) -> HistoryEntry:
        """The history entry a submission ends with (handlers/submit.py `_finish`)."""
        return HistoryEntry(
            id=f"created:{post.id}",
            post_id=post.id,
            target_id=None,
            kind="post.scheduled",
            at=post.created_at,
            detail={"due_at": post.due_at, "source": post.source},
        )

    @staticmethod
    def fact(item: PendingItem) -> DispatchFact:
        """A dispatch fact as handlers/dispatch.py `_fact` records it."""
        return DispatchFact(
            target_id=item.target_id,
            post_id=item.post_id,
            epoch=item.epoch,
            due_at=item.due_at,
            dispatched_at=NOW,
            claim=claim_id(item.target_id, item.epoch, 0),
            owner="bench",
            topic="herald.post.requested.facebook",
        )

    @staticmethod
    def status_fact(target: str, i: int) -> RecordedFact:
        """A delivery status as handlers/recipients.py `record_status` stores it."""
        fact = Fact(f"{target}/r{i}", STATUS, "sent", NOW, message_id=f"wamid.{i:08d}")
        return RecordedFact(
            fact=fact,
            post_id=target.rsplit("-", 1)[0],
            business_id=BIG,
            target_id=target,
            recipient_id=f"r{i}",
            recorded_at=NOW,
        )

    # -- scenarios

    def scenarios(self) -> list[Scenario]:
        return [
            Scenario("submission", True, self.submit),
            Scenario("submission", True, self.replay),
            Scenario("dispatch", True, self.dispatch_batch),
            Scenario("read post", True, self.read_post),
            Scenario("result", True, self.result),
            Scenario("whatsapp status", True, self.status),
            Scenario("listing", False, self.list_big),
            Scenario("listing", False, self.list_small),
            Scenario("post history", False, self.history),
            Scenario("post history", False, self.facts),
            Scenario("cancel/takeover", False, self.claims),
            Scenario("metrics sweep", False, self.count),
        ]

    async def submit(self, k: int) -> Took:
        took: Took = {}
        i = self.n + k  # a new key; even k in the big business, odd in a small one
        post = self.post(i, ["fb", "ig"], due=NOW + DAY)
        raced = await timed(took, "scheduler.insert_post", self.posts.insert_post(post))
        check(raced is None, "insert_post")
        targets = new_targets(post)
        await timed(took, "scheduler.insert_targets", self.posts.insert_targets(targets))
        items = [pending_item(post, t) for t in targets]
        await timed(took, "scheduler.add_pending", self.dispatch.add_pending(items))
        entry = self.created_entry(post)
        await timed(took, "scheduler.add_history[created]", self.posts.add_history(entry))
        self.submitted.append((post.business_id, post.id))
        # Untimed: the dispatcher takes these a day later; the queue stays at its bounded size.
        await self.dispatch.remove_pending(dispatch_id(t.target_id, t.epoch) for t in items)
        return took

    async def replay(self, _: int) -> Took:
        took: Took = {}
        big, small = self.spread.pick(self.rng, big=True), self.spread.pick(self.rng, big=False)
        found = await timed(
            took, "scheduler.find_by_key[big]", self.posts.find_by_key(BIG, f"key-{big:07d}")
        )
        check(found is not None and found.id == post_id(big), "find_by_key[big]")
        business = self.spread.business(small)
        found = await timed(
            took,
            "scheduler.find_by_key[small]",
            self.posts.find_by_key(business, f"key-{small:07d}"),
        )
        check(found is not None and found.id == post_id(small), "find_by_key[small]")
        again = self.post(big, ["fb"], due=NOW + DAY)  # the same business and key, a new id
        winner = await timed(took, "scheduler.insert_post[replay]", self.posts.insert_post(again))
        check(winner is not None and winner.id == post_id(big), "insert_post[replay]")
        return took

    async def dispatch_batch(self, k: int) -> Took:
        took: Took = {}
        items = [
            PendingItem(
                target_id=f"t_due{k}-{j}",
                epoch=1,
                due_at=NOW,
                post_id=f"p_due{k}",
                business_id=BIG,
                integration_id=integration_id(self.spread.pick(self.rng)),
                platform=Platform.FACEBOOK,
                request=Request({"text": "due"}, {"platform": "facebook"}),
            )
            for j in range(DISPATCH_BATCH)
        ]
        await self.dispatch.add_pending(items)  # untimed: what submissions queued
        limit = DispatchSettings().scan_limit
        due = await timed(
            took, "scheduler.pending_before", self.dispatch.pending_before(self.horizon, limit)
        )
        check({i.target_id for i in items} <= {d.target_id for d in due}, "pending_before")
        claims = [
            Claim(claim_id(i.target_id, 1, 0), i.target_id, 1, 0, "bench", "dispatch", NOW)
            for i in items
        ]
        won = await timed(took, "scheduler.claim", self.dispatch.claim(claims))
        check(len(won) == len(claims), "claim")
        ids = {i.integration_id for i in items}
        known = await timed(took, "scheduler.statuses", self.view.statuses(ids))
        check(set(known) == ids, "statuses")
        facts = [self.fact(i) for i in items]
        await timed(took, "scheduler.record_dispatches", self.dispatch.record_dispatches(facts))
        keys = [dispatch_id(i.target_id, i.epoch) for i in items]
        await timed(took, "scheduler.remove_pending", self.dispatch.remove_pending(keys))
        return took

    async def read_post(self, _: int) -> Took:
        """A client reading a post it submitted (two targets, not yet dispatched)."""
        took: Took = {}
        business, pid = self.rng.choice(self.submitted)
        post = await timed(took, "scheduler.get_post", self.posts.get_post(business, pid))
        check(post is not None, "get_post")
        assert post is not None
        targets = await timed(took, "scheduler.targets_of", self.posts.targets_of([post]))
        check(len(targets) == 2, "targets_of")
        # As handlers/base.py `with_states` asks: which scheduled targets were dispatched.
        keys = [dispatch_id(t.id, t.epoch) for t in targets if t.state is TargetState.SCHEDULED]
        done = await timed(took, "scheduler.dispatched", self.dispatch.dispatched(keys))
        check(not done and len(keys) == 2, "dispatched")
        return took

    async def result(self, k: int) -> Took:
        took: Took = {}
        tid = f"{post_id(self.spread.pick(self.rng))}-0"
        target = await timed(took, "scheduler.get_target", self.posts.get_target(tid))
        check(target is not None, "get_target")
        entry = HistoryEntry(
            id=f"event:{k}:{tid}",
            post_id=tid.rsplit("-", 1)[0],
            target_id=tid,
            kind="post.published",
            at=NOW,
            recorded_at=NOW,
            epoch=1,
            detail={"platform_post_id": f"fb_{k}", "attempt": 1},
        )
        added = await timed(took, "scheduler.add_history[result]", self.posts.add_history(entry))
        check(added, "add_history[result]")
        changes = TargetChanges(
            state=TargetState.PUBLISHED, platform_post_id=f"fb_{k}", updated_at=NOW
        )
        await timed(took, "scheduler.update_target", self.posts.update_target(tid, changes))
        return took

    async def status(self, k: int) -> Took:
        took: Took = {}
        fact = self.status_fact(f"{post_id(self.spread.pick(self.rng))}-0", self.n + k)
        existed = await timed(took, "scheduler.add_facts", self.recipients.add_facts([fact]))
        check(not existed, "add_facts")
        return took

    async def _list(self, took: Took, name: str, business: str, least: int) -> None:
        page = await timed(took, name, self.posts.list_posts(PostFilter(business), None, 51))
        check(len(page) >= least, name)

    async def list_big(self, _: int) -> Took:
        took: Took = {}
        await self._list(took, "scheduler.list_posts[big]", BIG, min(51, self.n // 2))
        return took

    async def list_small(self, _: int) -> Took:
        took: Took = {}
        business = self.spread.business(self.spread.pick(self.rng, big=False))
        await self._list(took, "scheduler.list_posts[small]", business, 1)
        return took

    async def history(self, _: int) -> Took:
        took: Took = {}
        pid = post_id(max(1, self.spread.pick(self.rng) // 2))  # the half with history
        entries = await timed(took, "scheduler.history_of", self.posts.history_of(pid, 100))
        check(len(entries) >= 1, "history_of")
        return took

    async def facts(self, _: int) -> Took:
        took: Took = {}
        targets = [f"{post_id(self.spread.pick(self.rng))}-0" for _ in range(2)]
        found = await timed(took, "scheduler.dispatch_facts", self.dispatch.dispatch_facts(targets))
        check(len(found) >= 1, "dispatch_facts")
        return took

    async def claims(self, _: int) -> Took:
        took: Took = {}
        tid = f"{post_id(self.spread.pick(self.rng))}-0"
        found = await timed(took, "scheduler.claims_for", self.dispatch.claims_for(tid, 1))
        check(len(found) == 1, "claims_for")
        return took

    async def count(self, _: int) -> Took:
        took: Took = {}
        counts = await timed(
            took, "scheduler.count_by_state", self.posts.count_by_state(UNFINISHED)
        )
        check(counts.get("scheduled", 0) >= 2, "count_by_state")  # this run's submissions
        return took


DISPATCH_BATCH = 10  # due targets per dispatcher round (about 40 posts/s at a 250 ms poll)
SECOND = timedelta(seconds=1)


def _queued(_: Document, i: int) -> Document:
    """A queue row due later (scheduled work): the scan reads it, the dispatcher leaves it."""
    target = f"t_later{i:07d}-0"
    return {"_id": dispatch_id(target, 1), "target_id": target, "due_at": NOW + DAY + i * SECOND}
