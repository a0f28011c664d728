"""`python -m scheduler process-campaigns --once`: one campaign pass, then exit.

It needs MongoDB and auth-service (to check each campaign post's integrations), not Kafka: the
posts it creates are queued in MongoDB and any running scheduler dispatches them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta

from herald.emitter import Outgoing
from herald.events import Event
from herald.logging import configure_logging
from herald.mongo import new_mongo_client, wait_for_mongo
from herald.settings import ConfigurationError, load_settings
from herald.topics import TopicNames
from scheduler.adapters.auth import auth_ports
from scheduler.handlers.base import Deps
from scheduler.handlers.campaigns import PassReport, run_pass
from scheduler.settings import Settings
from scheduler.workers import build_stores


class NoEmitter:
    """The campaign pass produces no events; an attempt to is a bug, and says so."""

    async def emit(
        self,
        event: Event,
        *,
        topic: str,
        key: str,
        headers: Mapping[str, str] | None = None,
        lane: int | None = None,
    ) -> None:
        msg = f"the campaign pass does not produce events (tried {event.event_type})"
        raise RuntimeError(msg)

    async def emit_all(self, outgoing: Sequence[Outgoing]) -> None:
        for out in outgoing:
            await self.emit(out.event, topic=out.topic, key=out.key)


async def process_campaigns(settings: Settings) -> PassReport:
    mongo = new_mongo_client(settings.mongo, app_name="herald-scheduler-campaigns")
    api_keys, integrations, http = auth_ports(settings)
    del api_keys
    try:
        await wait_for_mongo(mongo, settings.mongo)
        stores = build_stores(mongo, settings.database)
        await stores.ensure_indexes()
        deps = Deps(
            posts=stores.posts,
            dispatch=stores.dispatch,
            view=stores.view,
            integrations=integrations,
            campaigns=stores.campaigns,
            audiences=stores.audiences,
            recipients=stores.recipients,
            emitter=NoEmitter(),
            names=TopicNames(prefix=settings.topic_prefix),
            lease_s=settings.dispatch.claim_lease_s,
            batch_size=settings.broadcasts.batch_size,
        )
        return await run_pass(
            deps,
            horizon=timedelta(seconds=settings.campaigns.horizon_s),
            grace=timedelta(seconds=settings.campaigns.grace_s),
        )
    finally:
        await http.aclose()
        await mongo.close()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler process-campaigns")
    parser.add_argument("--once", action="store_true", required=True, help="run one pass")
    parser.parse_args(argv)
    try:
        settings = load_settings(Settings)
    except ConfigurationError as exc:
        print(f"scheduler: refusing to start: {exc}", file=sys.stderr)  # noqa: T201 - no logging yet
        return 2
    configure_logging(settings.log, service="scheduler-campaigns")
    report = asyncio.run(process_campaigns(settings))
    print(json.dumps(vars(report)))  # noqa: T201 - the command's answer, for scripts
    return 1 if report.errors else 0
