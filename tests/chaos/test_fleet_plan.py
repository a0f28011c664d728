"""The fleet run's plan, checked without running it: the `make test` size still covers every
kind of post and every kind of fault, and the plan is the same for the same seed."""

from __future__ import annotations

import pytest
from tests.chaos.fleet import KILL_GROUPS, MIX, PUBLISHERS, plan_faults, plan_load, sandbox_faults

pytestmark = pytest.mark.unit

SANDBOX = "http://127.0.0.1:8110"
INTEGRATIONS = {p: f"int_{p}" for p in ("facebook", "instagram", "tiktok", "whatsapp")}


def test_the_ci_size_covers_every_kind_of_post() -> None:
    posts = plan_load(1000, 20, "0001", SANDBOX, INTEGRATIONS)
    kinds = {f"{p.platform}/{p.kind}" for p in posts}
    assert kinds == set(MIX) | {"whatsapp/broadcast"}
    items = [i for p in posts for i in p.items]
    assert 990 <= len(items) <= 1010
    assert len({i.key for i in items}) == len(items)  # the checker refuses ambiguous keys


def test_the_ci_size_covers_every_kind_of_fault() -> None:
    steps = plan_faults(5, 1, 20, window_s=83)
    killed = {name for s in steps if s.kind == "kill" for name in s.targets}
    assert killed == {*PUBLISHERS, "scheduler", "auth-service"}
    assert any(len(s.targets) > 1 for s in steps if s.kind == "kill")  # several at once
    assert {s.targets for s in steps if s.kind != "kill"} == {
        ("kafka",),
        ("postgres",),
        ("ferretdb",),
    }
    assert all(0 < s.at_s < 83 for s in steps)
    actions = {(r["platform"], r.get("action", "error")) for r in sandbox_faults()}
    for platform in ("facebook", "instagram", "tiktok"):
        assert {"error", "timeout", "accept_then_fail"} <= {a for p, a in actions if p == platform}
    assert {a for p, a in actions if p == "whatsapp"} == {"error", "drop"}


def test_the_plan_depends_on_the_seed_only() -> None:
    first = plan_load(300, 7, "0001", SANDBOX, INTEGRATIONS)
    again = plan_load(300, 7, "0001", SANDBOX, INTEGRATIONS)
    assert [p.body for p in first] == [p.body for p in again]
    assert plan_faults(20, 2, 7, 800) == plan_faults(20, 2, 7, 800)
    assert len(plan_faults(20, 2, 7, 800)) == 26
    assert len(KILL_GROUPS) < 20  # a long run draws more kill steps from the same groups
