"""Three replicas of publisher-facebook share the request topic's partitions; one is SIGKILLed
in the middle of a run. After the group rebalances onto the other two, every post is published
and the platform shows each exactly once: nothing lost, nothing duplicated (issue 18).

The killed process leaves no commit and holds the lease of the request it was handling; the
survivor that inherits its partitions re-reads from the last commit, skips what the ledger says
was published, and takes the leased request over once the lease (10 s here) runs out.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from facebook_replicas import fleet

from herald_localstack.pytest_plugin import InfraEndpoints

pytestmark = pytest.mark.e2e

POSTS = 240
ENV = {
    "HERALD_PUBLISHER_FACEBOOK_CONCURRENCY": "1",
    "HERALD_PUBLISHER_FACEBOOK_LEASE_S": "10",
    "HERALD_PUBLISHER_FACEBOOK_BUSY_RETRY_S": "2",
    "HERALD_PUBLISHER_FACEBOOK_INSIGHTS__ENABLED": "false",
}


def test_killing_one_of_three_replicas_loses_and_duplicates_nothing(
    infra: InfraEndpoints,
) -> None:
    del infra  # the session's stack: this run has its own namespace on it
    run = uuid.uuid4().hex[:8]
    with fleet("kill-rep", pages=12, env=ENV) as f:
        f.scale(3)
        asyncio.run(f.members(3))
        targets = asyncio.run(f.request(run, POSTS))
        deadline = time.monotonic() + 120
        while sum(f.visible(run).values()) < POSTS // 4:  # a quarter done: mid-run
            assert time.monotonic() < deadline, "the replicas published too little to begin"
            time.sleep(0.2)
        victim = f.replicas[1]
        f.kill(victim)
        killed_at = sum(f.visible(run).values())
        published = asyncio.run(f.published(targets, timeout_s=240))
        asyncio.run(f.members(2))  # the survivors own every partition now
        shown = f.visible(run)
    print(f"killed {victim} with {killed_at} of {POSTS} visible; all done after the rebalance")
    assert [t for t in targets if not published[t]] == [], "requests never published"
    assert [t for t in targets if shown[t] == 0] == [], "lost: not on the platform"
    assert {t: n for t, n in shown.items() if n > 1} == {}, "duplicated on the platform"
    assert killed_at < POSTS, "the kill came after the run had finished"
