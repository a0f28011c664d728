"""A publisher consumer run as its own process by test_runtime_crash.py, to be killed mid-flight.

Its fake platform makes the visible call and then never returns, so the test can SIGKILL the
process inside the window between the platform call and the offset commit.
"""

from __future__ import annotations

import asyncio
import json
import sys

from herald.mongo import new_mongo_client
from herald.runtime.app import build_publisher
from herald.runtime.settings import PublisherSettings, RetrySettings
from herald.settings import HttpServerSettings, KafkaSettings, MongoSettings
from herald.testing import MongoFakePlatform, Plan, StaticTokens
from herald.testkit import running
from herald.topics import TopicNames


async def main(argv: list[str]) -> None:
    bootstrap, mongo_uri, database, prefix, kind, tiers = argv
    mongo = new_mongo_client(MongoSettings(uri=mongo_uri), app_name="crash-consumer")
    settings = PublisherSettings(
        http=HttpServerSettings(port=1),
        database=database,
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        mongo=MongoSettings(uri=mongo_uri),
        retry=RetrySettings(max_attempts=3, backoff_s=[1.0, 1.0], jitter=0.0),
        lease_s=2.0,
        busy_retry_s=1.0,
        topic_prefix=prefix,
    )
    platform = MongoFakePlatform(mongo[database], default=Plan(kind=kind, hang_after_visible=True))
    names = TopicNames(prefix=prefix, tiers=json.loads(tiers))
    app = build_publisher(platform.name, settings, tokens=StaticTokens(), names=names).app(platform)
    async with running(app):
        print("ready", flush=True)  # noqa: T201 - the test waits for this line
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:7]))
