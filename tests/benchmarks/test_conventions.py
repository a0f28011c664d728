"""The benchmarks' conventions, checked without running one (issue 25): every script promises
its result keys and has a quick mode; the `result:` line says what it promises or the check in
`test_quick.py` fails; a load generator waits out 429/503 instead of crashing."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from backpressure import Backpressure, retry_after_s
from resultline import KEY, SCRIPTS, parse, problems, result_keys, result_line

pytestmark = pytest.mark.unit


def test_the_benchmarks_are_found() -> None:
    names = {s.name for s in SCRIPTS}
    assert {"bench_dispatch.py", "bench_e2e.py", "bench_runtime.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_every_script_promises_its_keys_and_has_a_quick_mode(script: Path) -> None:
    keys = result_keys(script)
    assert keys, f"{script.name}: RESULT_KEYS is empty"
    assert len(set(keys)) == len(keys), f"{script.name}: a key is repeated"
    assert all(KEY.match(k) for k in keys), f"{script.name}: keys are lower_snake_case"
    flags = {
        node.value
        for node in ast.walk(ast.parse(script.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert "--quick" in flags, f"{script.name} has no --quick option"


def test_result_keys_are_read_from_the_source_without_running_it(tmp_path: Path) -> None:
    script = tmp_path / "bench_x.py"
    script.write_text('raise SystemExit(3)\nRESULT_KEYS: tuple[str, ...] = ("a", "b_2")\n')
    assert result_keys(script) == ("a", "b_2")
    script.write_text("RESULT_KEYS = tuple(['a'])\n")
    with pytest.raises(ValueError, match="malformed node"):
        result_keys(script)
    script.write_text("KEYS = ('a',)\n")
    with pytest.raises(LookupError, match="no module-level RESULT_KEYS"):
        result_keys(script)


def test_a_result_line_holds_the_promised_keys_in_order() -> None:
    line = result_line(
        ("n", "p99_ms", "rate", "limits", "missing", "name"),
        {
            "rate": 12345.6,
            "n": 200,
            "p99_ms": 0.04213,
            "limits": [80, 1000],
            "missing": None,
            "name": "ferretdb",
        },
    )
    assert line == "result: n=200 p99_ms=0.0421 rate=12346 limits=80,1000 missing=- name=ferretdb"
    assert parse(line) == {
        "n": "200",
        "p99_ms": "0.0421",
        "rate": "12346",
        "limits": "80,1000",
        "missing": "-",
        "name": "ferretdb",
    }


def test_a_figure_the_keys_do_not_name_or_a_value_of_two_words_is_refused() -> None:
    with pytest.raises(ValueError, match=r"missing \['b'\], not in RESULT_KEYS \['c'\]"):
        result_line(("a", "b"), {"a": 1, "c": 2})
    with pytest.raises(ValueError, match="one token"):
        result_line(("a",), {"a": "load generator"})


def test_a_renamed_key_or_a_missing_result_line_is_a_problem() -> None:
    keys = ("spread_p99_ms", "burst_drain_s")
    good = "scheduler ready\n-- spread ...\nresult: spread_p99_ms=18.4 burst_drain_s=0.03\n"
    assert problems(good, keys) == []
    renamed = good.replace("burst_drain_s=", "drain_s=")
    assert problems(renamed, keys) == [
        "promised key 'burst_drain_s' missing from 'result: spread_p99_ms=18.4 drain_s=0.03'"
    ]
    assert problems(good + "stopping kafka\n", keys)[0].startswith("the last line is not")
    assert problems("", keys) == ["the last line is not a 'result:' line: '(no output)'"]
    twice = "result: spread_p99_ms=1 burst_drain_s=2\n" + good
    assert problems(twice, keys) == ["2 'result:' lines, expected exactly one"]
    assert "malformed" in problems("result: spread_p99_ms\n", keys)[0]


def _refusing(answers: list[httpx.Response]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        del request
        return answers.pop(0)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def test_refusals_are_waited_out_as_retry_after_says_and_counted() -> None:
    answers = [
        httpx.Response(503, headers={"Retry-After": "0.05"}),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(201, json={"post_id": "p1"}),
    ]
    refused = Backpressure(max_wait_s=1.0)
    async with _refusing(answers) as client:
        response = await refused.send(lambda: client.post("http://scheduler/v1/posts"))
    assert response.status_code == 201
    assert refused.refusals == 2
    assert 0.04 <= refused.waited_s < 1.0


async def test_a_system_that_only_refuses_stops_the_run_after_a_bound() -> None:
    answers = [httpx.Response(503, headers={"Retry-After": "0"}) for _ in range(3)]
    refused = Backpressure(give_up_after=3)
    async with _refusing(answers) as client:
        with pytest.raises(RuntimeError, match="refused 3 times in a row"):
            await refused.send(lambda: client.get("http://scheduler/v1/posts/p1"))
    assert refused.refusals == 3


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("3600", 30.0),  # bounded: a benchmark never sleeps an hour on one word
        ("-2", 0.0),
        ("soon", 1.0),  # unreadable: the default
        (None, 1.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: go now
    ],
)
def test_retry_after_is_seconds_or_a_date_within_bounds(
    header: str | None, expected: float
) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    response = httpx.Response(503, headers=headers)
    assert retry_after_s(response, default_s=1.0, ceiling_s=30.0) == expected
