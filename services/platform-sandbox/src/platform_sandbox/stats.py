"""Synthetic engagement figures: stable per object and metric, rising with the object's age.

Analytics tests need numbers that are plausible, repeatable and that move between two reads;
they do not need realistic ones. A figure is a pseudo-random base derived from the object id
and metric name: it ramps up linearly over the object's first `ramp_s` seconds (the base at
1 h), then keeps rising more slowly, logarithmically in the age, up to `GROWTH` times the base
once the object is `settle_s` old (7 days by default), and stays there: most of a post's
engagement comes in its first days, so the 1 h, 24 h and 7 d snapshots all differ and the 28 d
one equals the 7 d one.
"""

from __future__ import annotations

import hashlib
import math

GROWTH = 3.0  # the settled figure over the 1 h one
SETTLE_S = 7 * 86_400.0


def base(object_id: str, metric: str, scale: int = 1_000) -> int:
    digest = hashlib.sha256(f"{object_id}:{metric}".encode()).digest()
    return 10 + int.from_bytes(digest[:4], "big") % scale


def share(age_s: float, *, ramp_s: float = 3_600, settle_s: float = SETTLE_S) -> float:
    """How much of the base an object shows at `age_s`: 0 → 1 over the ramp, then
    1 → `GROWTH` logarithmically until `settle_s`, then constant."""
    if age_s <= 0:
        return 0.0
    if age_s <= ramp_s:
        return age_s / ramp_s
    later = math.log(min(age_s, settle_s) / ramp_s) / math.log(settle_s / ramp_s)
    return 1.0 + (GROWTH - 1.0) * later


def figure(
    object_id: str,
    metric: str,
    age_s: float,
    *,
    scale: int = 1_000,
    ramp_s: float = 3_600,
    settle_s: float = SETTLE_S,
) -> int:
    """The figure `metric` of `object_id` shows `age_s` seconds after it was published."""
    return int(base(object_id, metric, scale) * share(age_s, ramp_s=ramp_s, settle_s=settle_s))
