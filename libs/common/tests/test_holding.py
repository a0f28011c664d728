"""When a delay-tier message runs, is held, or moves on to a shorter tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.runtime.holding import Hold, Reroute, Run, hold_decision

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("now", "tier_s", "due", "expected"),
    [
        (s(1), 10, s(8), Hold(s(8))),  # due before the tier's delay: held until due
        (s(8), 10, s(8), Run()),
        (s(8.01), 10, s(8), Run()),
        (s(1), 10, s(30), Hold(s(10))),  # due later: held for the tier's delay only
        (s(10), 10, s(30), Reroute(20.0)),  # then on to a tier for the remaining 20 s
        (s(29.99), 10, s(30), Run()),  # within the 20 ms slack
        (s(1), 10, None, Hold(s(10))),  # no due header: the tier's delay
        (s(10), 10, None, Run()),
    ],
)
def test_hold_decision(
    now: datetime, tier_s: float, due: datetime | None, expected: object
) -> None:
    assert hold_decision(now, T0, tier_s, due) == expected
