"""Campaigns: a recurring RRULE in a time zone creates its next posts ahead of time, once, however
many passes run; `python -m scheduler process-campaigns --once` runs one pass."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from herald.testkit import running
from scheduler.handlers.campaigns import run_pass
from scheduler.testing import SchedulerEnv, auth, client, post_body

pytestmark = pytest.mark.connected

DAYS = timedelta(days=3)


def daily_at_nine() -> dict[str, object]:
    start = datetime.now(ZoneInfo("Europe/Lisbon")).replace(tzinfo=None) - timedelta(days=1)
    return {
        "name": "Morning specials",
        "recurrence": {
            "rule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
            "timezone": "Europe/Lisbon",
            "starts_at": start.replace(microsecond=0).isoformat(),
        },
        "template": post_body("fb-1", text="Fresh bread at nine"),
    }


async def run_command(env: SchedulerEnv) -> tuple[int, dict[str, object]]:
    variables = {
        **os.environ,
        **env.env(HERALD_SCHEDULER_CAMPAIGNS__HORIZON_S=str(DAYS.total_seconds())),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scheduler",
        "process-campaigns",
        "--once",
        env=variables,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, json.loads(out.decode().strip().splitlines()[-1])


async def test_recurring_campaign_creates_its_posts_once(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()
    async with running(app):
        http = client(app)
        created = await http.post("/v1/campaigns", json=daily_at_nine(), headers=auth())
        campaign_id = created.json()["campaign_id"]
        deps = app.state.deps
        first = await run_pass(deps, horizon=DAYS, grace=timedelta(hours=1))
        second = await run_pass(deps, horizon=DAYS, grace=timedelta(hours=1))
        # another replica that has not seen this pass's progress plans the same occurrences
        await env.db["campaigns"].update_one(
            {"_id": campaign_id}, {"$set": {"planned_until": None}}
        )
        code, report = await run_command(env)
        posts = (await http.get(f"/v1/posts?campaign_id={campaign_id}", headers=auth())).json()
        shown = (await http.get(f"/v1/campaigns/{campaign_id}", headers=auth())).json()
        ended = await http.post(f"/v1/campaigns/{campaign_id}/end", headers=auth())
        after_end = await run_pass(deps, horizon=DAYS * 2, grace=timedelta(hours=1))
        cancelled = (await http.get(f"/v1/posts?campaign_id={campaign_id}", headers=auth())).json()
        # Asked to keep them, a campaign's posts outlive it.
        kept_id = (await http.post("/v1/campaigns", json=daily_at_nine(), headers=auth())).json()[
            "campaign_id"
        ]
        await run_pass(deps, horizon=DAYS, grace=timedelta(hours=1))
        kept_end = await http.post(
            f"/v1/campaigns/{kept_id}/end", params={"keep_posts": "true"}, headers=auth()
        )
        kept = (await http.get(f"/v1/posts?campaign_id={kept_id}", headers=auth())).json()
    assert created.status_code == 201
    assert first.created in (3, 4)  # today's 09:00 too, if it is still ahead
    assert (second.created, second.existing) == (0, 0)
    assert code == 0
    assert (report["created"], report["existing"]) == (0, first.created)
    due = sorted(datetime.fromisoformat(p["due_at"]) for p in posts["items"])
    assert len(due) == first.created
    assert all(d.astimezone(ZoneInfo("Europe/Lisbon")).hour == 9 for d in due)
    assert all(d > datetime.now(UTC) for d in due)
    assert {p["source"] for p in posts["items"]} == {"campaign"}
    assert shown["planned_until"] is not None
    assert ended.json()["status"] == "ended"
    assert after_end.campaigns == 0
    # Ending a campaign cancels the future posts it created (issue 16).
    assert ended.json()["cancelled_posts"] == first.created
    assert [p["status"] for p in cancelled["items"]] == ["cancelled"] * first.created
    assert kept_end.json()["cancelled_posts"] == 0
    assert {p["status"] for p in kept["items"]} == {"scheduled"}
    assert len(kept["items"]) == first.created


async def test_campaign_input_is_checked(scheduler_env: SchedulerEnv) -> None:
    app = scheduler_env.app()
    body = daily_at_nine()
    body["recurrence"] = {
        "rule": "FREQ=MINUTELY",
        "timezone": "Mars/Base",
        "starts_at": "2031-01-01T09:00:00",
    }
    async with running(app):
        http = client(app)
        bad = await http.post("/v1/campaigns", json=body, headers=auth())
        half = await http.post(
            "/v1/campaigns", json={"name": "x", "template": body["template"]}, headers=auth()
        )
        plain = await http.post("/v1/campaigns", json={"name": "Spring"}, headers=auth())
        listed = (await http.get("/v1/campaigns", headers=auth())).json()
        unknown = await http.post(
            "/v1/posts", json=post_body("fb-1", campaign_id="c_nope"), headers=auth()
        )
    assert bad.status_code == 422
    assert {(v["path"], v["code"]) for v in bad.json()["violations"]} == {
        ("recurrence.rule", "out_of_range"),
        ("recurrence.timezone", "invalid_format"),
    }
    assert half.json()["violations"][0]["path"] == "recurrence"
    assert plain.status_code == 201
    assert [c["name"] for c in listed["items"]] == ["Spring"]
    assert ("campaign_id", "not_found") in {
        (v["path"], v["code"]) for v in unknown.json()["violations"]
    }
