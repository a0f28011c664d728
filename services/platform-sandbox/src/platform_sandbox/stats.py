"""Synthetic engagement figures: stable per object and metric, rising with the object's age.

Analytics tests need numbers that are plausible, repeatable and that move between two reads;
they do not need realistic ones. A figure is a pseudo-random base derived from the object id
and metric name, scaled by how far the object is into its first `ramp_s` seconds of life.
"""

from __future__ import annotations

import hashlib


def base(object_id: str, metric: str, scale: int = 1_000) -> int:
    digest = hashlib.sha256(f"{object_id}:{metric}".encode()).digest()
    return 10 + int.from_bytes(digest[:4], "big") % scale


def figure(
    object_id: str, metric: str, age_s: float, *, scale: int = 1_000, ramp_s: float = 3_600
) -> int:
    """The figure `metric` of `object_id` shows `age_s` seconds after it was published."""
    if age_s <= 0:
        return 0
    return int(base(object_id, metric, scale) * min(1.0, age_s / ramp_s))
