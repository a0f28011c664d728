"""`herald.consuming.Strikes`: which errors make a Kafka record poison (issue 19, finding 4)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from pymongo.errors import ServerSelectionTimeoutError

from herald.apierrors import Unavailable
from herald.consuming import Strikes
from herald.errors import Transient

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Record:
    topic: str = "post.submitted"
    partition: int = 0
    offset: int = 7


def test_a_value_no_retry_can_convert_is_poison_at_once() -> None:
    strikes = Strikes()
    assert strikes.poisoned(Record(), OverflowError("date value out of range"))
    assert strikes.poisoned(Record(), UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogate"))


def test_an_unexplained_error_is_poison_at_its_third_failure_in_a_row() -> None:
    strikes = Strikes(limit=3)
    assert [strikes.poisoned(Record(), KeyError("page_id")) for _ in range(3)] == [
        False,
        False,
        True,
    ]
    # Counted per record: another offset starts again.
    assert not strikes.poisoned(Record(offset=8), TypeError("None is not iterable"))


@pytest.mark.parametrize(
    "outage",
    [
        ServerSelectionTimeoutError("no servers"),
        KafkaConnectionError(),
        httpx.ConnectError("refused"),
        ConnectionRefusedError(),
        TimeoutError(),
        Transient("auth-service did not answer in time", code="timeout"),
        Unavailable("auth-service did not answer"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_dependency_away_never_makes_a_record_poison(outage: Exception) -> None:
    strikes = Strikes(limit=3)
    assert not any(strikes.poisoned(Record(), outage) for _ in range(50))


def test_memory_is_bounded() -> None:
    strikes = Strikes(limit=3, keep=100)
    for offset in range(1_000):
        strikes.poisoned(Record(offset=offset), KeyError("x"))
    # The oldest were forgotten: offset 0 starts from its first strike again.
    assert not strikes.poisoned(Record(offset=0), KeyError("x"))
    assert not strikes.poisoned(Record(offset=0), KeyError("x"))
    assert strikes.poisoned(Record(offset=0), KeyError("x"))
