"""Lanes (ADR 0025): where a business's integrations' requests begin among the partitions."""

from __future__ import annotations

import pytest

from scheduler.adapters.integrations import OFFSETS, business_offset

pytestmark = pytest.mark.unit


def test_business_offsets_are_stable_and_spread() -> None:
    offsets = [business_offset(f"biz_{n:04d}") for n in range(1000)]
    assert offsets == [business_offset(f"biz_{n:04d}") for n in range(1000)]
    assert all(0 <= o < OFFSETS for o in offsets)
    # Businesses' first lanes spread over 12 partitions about evenly (each 83 expected).
    by_partition = [sum(1 for o in offsets if o % 12 == p) for p in range(12)]
    assert min(by_partition) > 50, by_partition
