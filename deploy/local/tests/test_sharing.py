"""Test sessions and benchmarks share the stack's Kafka and FerretDB: the last one out stops what
any of them started, never what `make up` owns (sharing.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from herald_localstack import sharing
from herald_localstack.config import StackConfig

pytestmark = pytest.mark.unit


@pytest.fixture
def cfg(tmp_path: Path) -> StackConfig:
    return dataclasses.replace(StackConfig.from_env(), run_dir=tmp_path / "run")


class Stops:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, names: tuple[str, ...]) -> list[str]:
        self.calls.append(names)
        return list(names)


def live(*pids: int) -> Callable[[int], bool]:
    return lambda pid: pid in pids


def test_the_last_user_out_stops_what_users_started(cfg: StackConfig) -> None:
    stop = Stops()
    sharing.join(cfg, ["kafka", "ferretdb"], pid=101)  # started them
    sharing.join(cfg, [], pid=102)  # found them running

    assert sharing.leave(cfg, stop, pid=101, alive=live(102)) == []
    assert stop.calls == []  # 102 still uses them
    assert sharing.leave(cfg, stop, pid=102, alive=live()) == ["ferretdb", "kafka"]
    assert stop.calls == [("ferretdb", "kafka")]


def test_a_user_that_died_without_leaving_does_not_keep_the_stack(cfg: StackConfig) -> None:
    stop = Stops()
    sharing.join(cfg, ["kafka"], pid=201)
    sharing.join(cfg, [], pid=202)  # killed: its marker stays behind

    assert sharing.leave(cfg, stop, pid=201, alive=live()) == ["kafka"]
    assert not list((cfg.run_dir / "users").glob("[0-9]*"))


def test_a_stack_make_up_owns_is_never_stopped_by_users(cfg: StackConfig) -> None:
    stop = Stops()
    sharing.join(cfg, [], pid=301)  # `make up` started it: users started nothing
    assert sharing.leave(cfg, stop, pid=301, alive=live()) == []

    sharing.join(cfg, ["kafka", "ferretdb"], pid=302)
    sharing.adopt(cfg)  # `make up` ran meanwhile and took the stack over
    assert sharing.leave(cfg, stop, pid=302, alive=live()) == []
    assert stop.calls == []
