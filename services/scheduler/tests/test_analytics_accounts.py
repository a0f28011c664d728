"""Account analytics from the platform to the route: the publishers' account job (the shared
`herald.insights.accounts` pieces with the Page reader) reads the platform sandbox's Page
insights for each finished day on the sandbox clock and tells them on `post.insights`; the
scheduler keeps each day once and serves it by day in the common vocabulary, JSON and CSV; a day
the platform refuses is absent with its reason; another business gets 404 and bad parameters
422 naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from herald.emitter import Outgoing
from herald.events import Event, IntegrationConnected, IntegrationStatus
from herald.graph import GraphClient
from herald.graph.accounts import PageAccountInsights
from herald.insights.account_store import MongoAccounts
from herald.insights.accounts import AccountCollector, AccountInsightsSettings, AccountSink
from herald.insights.clock import FollowedClock
from herald.insights.directory import AccountDirectory
from herald.testkit import producer, running, send_event
from herald.topics import Platform
from platform_sandbox.testing.served import SandboxClient, served_sandbox
from platform_sandbox.testing.tokens import SandboxTokens, facebook_grant
from publisher_testenv.env import graph_settings
from scheduler.testing import KEY_B, SchedulerEnv, auth, client, eventually

pytestmark = pytest.mark.connected
DAY_S = 86_400


class ProducerEmitter:
    """The publishers' emitter, on a plain producer."""

    def __init__(self, out: AIOKafkaProducer) -> None:
        self._out = out

    async def emit(
        self,
        event: Event,
        *,
        topic: str,
        key: str,
        headers: Mapping[str, str] | None = None,
        lane: int | None = None,
    ) -> None:
        assert lane is None  # the account jobs' snapshots are placed by their key
        await send_event(self._out, topic, event, key=key)

    async def emit_all(self, outgoing: Sequence[Outgoing]) -> None:
        for out in outgoing:
            await send_event(self._out, out.topic, out.event, key=out.key)


@asynccontextmanager
async def account_job(
    env: SchedulerEnv, sandbox: SandboxClient, out: AIOKafkaProducer
) -> AsyncIterator[tuple[AccountCollector, FollowedClock]]:
    """A publisher's account job on a database of its own, knowing one connected Page."""
    db = env.db.client[f"{env.db.name}_fb"]
    store = MongoAccounts(db)
    await store.ensure_indexes()
    connected = IntegrationConnected(
        integration_id="fb-page",
        business_id="biz-a",
        platform=Platform.FACEBOOK,
        account_id=sandbox.demo.page_id,
        status=IntegrationStatus.ACTIVE,
        occurred_at=datetime.now(UTC),
    )
    await AccountDirectory(Platform.FACEBOOK, store).observe(connected)
    async with httpx.AsyncClient(timeout=30) as http:
        clock = FollowedClock(http, f"{sandbox.url}/_sandbox/clock")
        graph = GraphClient(http, graph_settings(sandbox.url), platform="facebook")
        job = AccountCollector(
            platform=Platform.FACEBOOK,
            store=store,
            reader=PageAccountInsights(graph),
            tokens=SandboxTokens(sandbox.url, facebook_grant(sandbox.demo)),
            sink=AccountSink(store, ProducerEmitter(out), topic=env.names.post_insights),
            settings=AccountInsightsSettings(),
            clock=clock,
            refresh_clock=clock.refresh,
        )
        try:
            yield job, clock
        finally:
            await env.db.client.drop_database(db.name)


async def next_day(sandbox: SandboxClient, clock: FollowedClock) -> None:
    await sandbox.admin("POST", "/clock/advance", json={"seconds": DAY_S})
    await clock.refresh()


async def test_page_days_from_the_sandbox_to_the_route(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("fb-page")
    app = env.app()
    async with (
        served_sandbox("facebook") as sandbox,
        running(app),
        producer(env.kafka_bootstrap) as out,
        account_job(env, sandbox, out) as (job, clock),
    ):
        http = client(app)
        await clock.refresh()
        first = (await job.run_once())[0].day
        await next_day(sandbox, clock)
        await job.run_once()
        await next_day(sandbox, clock)
        await sandbox.fault(
            endpoint="insights",
            method="GET",
            error={"code": 10, "message": "(#10) Application does not have permission"},
        )
        assert await job.run_once() == []  # refused, after one refresh: told as absent
        window = {"from": first.isoformat(), "to": (first + timedelta(days=3)).isoformat()}
        url = "/v1/analytics/accounts/fb-page"

        async def three_days() -> dict[str, Any] | None:
            response = await http.get(url, params=window, headers=auth())
            body: dict[str, Any] = response.json()
            return body if len(body.get("days", [])) == 3 else None

        body = await eventually(three_days)
        assert (body["platform"], body["account_id"]) == ("facebook", sandbox.demo.page_id)
        assert (body["from"], body["granularity"]) == (first.isoformat(), "day")
        one, two, refused = body["days"]
        assert [one["day"], refused["day"]] == [
            first.isoformat(),
            (first + timedelta(days=2)).isoformat(),
        ]
        followers = one["metrics"]["followers"]
        assert followers["platform_metric"] == "page_follows"
        assert two["metrics"]["followers"]["value"] > followers["value"]  # a day of growth
        assert one["metrics"]["views"]["platform_metric"] == "page_media_view"
        assert one["platform_metrics"]["page_follows"] == followers["value"]
        assert "saves" in one["absent"]  # a Page has no saves: absent, not 0
        assert refused["metrics"] == {}
        assert refused["unavailable"]["code"] == "10"
        assert "(#10) Application does not have permission" in refused["absent"]["followers"]

        csv = await http.get(url, params=window, headers=auth(Accept="text/csv"))
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0].startswith("integration_id,platform,account_id,day,collected_at,metric")
        assert any(",followers," in line and ",page_follows," in line for line in lines)

        other = await http.get(url, params=window, headers=auth(KEY_B))
        assert other.status_code == 404
        for params, field in (
            ({"from": "yesterday"}, "from"),
            ({"granularity": "week"}, "granularity"),
            ({"from": window["to"], "to": window["from"]}, "from"),
        ):
            refused_request = await http.get(url, params=params, headers=auth())
            assert refused_request.status_code == 422, params
            assert field in refused_request.text

        assert body["not_collected_reason"] is None
        env.integrations.add("fb-page", status=IntegrationStatus.DISCONNECTED)
        gone = (await http.get(url, params=window, headers=auth())).json()
        assert gone["not_collected_reason"].startswith("the integration is disconnected")
        assert len(gone["days"]) == 3  # what was collected stays
