"""How many requests per second the platform sandbox sustains on this machine.

Starts `python -m platform_sandbox` with uvicorn on a free loopback port, then drives two hot
paths with concurrent keep-alive connections: WhatsApp `POST /{phone-number-id}/messages` and
Instagram container status reads (`GET /{container-id}?fields=status_code`). Prints requests/s
and the status codes seen; asserts nothing about speed. Herald's benchmarks need the sandbox not
to be their bottleneck (target: at least 2,000 requests/s).

Wall-clock requests/s depend on what else the machine runs (the load generator shares its
cores). So each round also reads the CPU time the sandbox process spent, from /proc, and prints
the requests it serves per CPU-second: its throughput on one core of its own.

The load generator is a minimal HTTP/1.1 client on asyncio streams: a general-purpose client
(httpx) spends more CPU per request than the server under test and would measure itself. Request
counts and time are bounded; only loopback is contacted. With its limits lifted the sandbox
should refuse nothing; any 429 or 503 it answers is counted (`refusals`), never retried, since
this measures the server, not a client's patience. `--quick` (one round of 1,000 requests per
scenario) checks in seconds that both paths still answer; `make test` runs it.

    .venv/bin/python tests/benchmarks/bench_sandbox.py [--requests N] [--connections C] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from resultline import result_line

from herald.testkit.servers import free_port

RESULT_KEYS: tuple[str, ...] = (
    "whatsapp_rps",
    "whatsapp_per_cpu_s",
    "instagram_rps",
    "instagram_per_cpu_s",
    "refusals",
    "errors",
)
HOST = "127.0.0.1"
SCENARIO_TIMEOUT_S = 120.0
TARGET_RPS = 2_000


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process (Linux /proc), or None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sandbox:
    base: str
    port: int
    pid: int


@contextlib.contextmanager
def sandbox_process(port: int) -> Iterator[Sandbox]:
    """The sandbox as its own process, with limits lifted so the benchmark measures speed."""
    env = os.environ | {
        "HERALD_SANDBOX_HTTP__PORT": str(port),
        "HERALD_SANDBOX_WHATSAPP__THROUGHPUT_MPS": "1000000",
        "HERALD_SANDBOX_WHATSAPP__PAIR_BURST": "1000000000",
        "HERALD_SANDBOX_META__APP_CALLS_PER_HOUR": "1000000000",
        "HERALD_SANDBOX_META__INSTAGRAM_CALLS_PER_DAY": "1000000000",
        "HERALD_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "platform_sandbox"]
    process = subprocess.Popen(command, env=env)
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(base, process)
        yield Sandbox(base, port, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the sandbox exited with status {process.returncode}"
            raise RuntimeError(msg)
        healthz = f"{base}/healthz"
        with contextlib.suppress(OSError), urllib.request.urlopen(healthz, timeout=1) as answer:  # noqa: S310 - loopback
            if answer.status == 200:
                return
        time.sleep(0.1)
    msg = "the sandbox did not answer /healthz within 30 s"
    raise RuntimeError(msg)


def call(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback only
        base + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback only
        decoded: dict[str, Any] = json.loads(answer.read())
        return decoded


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: list[bytes]  # ready-made HTTP/1.1 requests, used round-robin


def http_request(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def whatsapp_scenario(base: str, recipients: int) -> Scenario:
    demo = call(base, "GET", "/_sandbox/accounts")["demo"]
    token = call(
        base,
        "POST",
        "/_sandbox/tokens",
        {"kind": "system_user", "subject": "130000000000777", "assets": [demo["waba_id"]]},
    )["access_token"]
    path = f"/graph.facebook.com/v23.0/{demo['phone_number_id']}/messages"
    requests = []
    for i in range(recipients):
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": f"1555{i:07d}",
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
        }
        requests.append(http_request("POST", path, token, json.dumps(body).encode()))
    return Scenario("WhatsApp POST /messages", requests)


def instagram_scenario(base: str, containers: int) -> Scenario:
    demo = call(base, "GET", "/_sandbox/accounts")["demo"]
    token = call(base, "POST", "/_sandbox/tokens", {"kind": "page", "subject": demo["page_id"]})
    page_token = token["access_token"]
    requests = []
    for i in range(containers):
        made = call(
            base,
            "POST",
            f"/graph.facebook.com/v23.0/{demo['ig_user_id']}/media?access_token={page_token}",
            {"image_url": f"{base}/_sandbox/media/bench{i}.jpg", "caption": f"bench {i}"},
        )
        path = f"/graph.facebook.com/v23.0/{made['id']}?fields=status_code"
        requests.append(http_request("GET", path, page_token))
    return Scenario("Instagram GET /{container-id}?fields=status_code", requests)


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            msg = "the benchmark client reads Content-Length bodies only"
            raise RuntimeError(msg)
    await reader.readexactly(length)
    return status


async def connection(port: int, scenario: Scenario, count: int, offset: int) -> Counter[int]:
    reader, writer = await asyncio.open_connection(HOST, port)
    statuses: Counter[int] = Counter()
    try:
        for i in range(count):
            writer.write(scenario.requests[(offset + i) % len(scenario.requests)])
            statuses[await read_response(reader)] += 1
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return statuses


@dataclass(frozen=True)
class Round:
    rps: float
    per_cpu_second: float | None
    statuses: Counter[int]


async def drive(sandbox: Sandbox, scenario: Scenario, total: int, connections: int) -> Round:
    port = sandbox.port
    per_connection = max(1, total // connections)
    await connection(port, scenario, min(200, per_connection), 0)  # warm-up, not measured
    cpu_before = cpu_seconds(sandbox.pid)
    started = time.perf_counter()
    results = await asyncio.wait_for(
        asyncio.gather(
            *(connection(port, scenario, per_connection, c * 7919) for c in range(connections))
        ),
        timeout=SCENARIO_TIMEOUT_S,
    )
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(sandbox.pid)
    statuses: Counter[int] = Counter()
    for part in results:
        statuses.update(part)
    served = sum(statuses.values())
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Round(served / elapsed, served / cpu if cpu else None, statuses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=15_000, help="per round (bounded)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per scenario (max 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="one round of 1,000 requests")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds = 1_000, 1
    total, rounds = min(args.requests, 200_000), max(1, min(args.rounds, 10))
    port = free_port()
    figures: dict[str, float | int | None] = {}
    with sandbox_process(port) as sandbox:
        base = sandbox.base
        scenarios = {
            "whatsapp": whatsapp_scenario(base, 1_000),
            "instagram": instagram_scenario(base, 50),
        }
        say(f"platform sandbox on {base} (load average {os.getloadavg()[0]:.1f})")
        say(f"{rounds} rounds x {total} requests per scenario, {args.connections} connections")
        statuses: Counter[int] = Counter()
        for key, scenario in scenarios.items():
            measured = [
                asyncio.run(drive(sandbox, scenario, total, args.connections))
                for _ in range(rounds)
            ]
            rps, per_cpu = report(scenario, measured)
            figures |= {f"{key}_rps": rps, f"{key}_per_cpu_s": per_cpu}
            for part in measured:
                statuses.update(part.statuses)
    refusals = statuses[429] + statuses[503]
    figures["refusals"] = refusals
    figures["errors"] = sum(n for code, n in statuses.items() if code >= 400) - refusals
    say(result_line(RESULT_KEYS, figures))
    return 0


def report(scenario: Scenario, rounds: list[Round]) -> tuple[float, float | None]:
    """Prints the rounds; returns the median requests/s and requests per CPU-second."""
    rates = sorted(r.rps for r in rounds)
    statuses: Counter[int] = Counter()
    for part in rounds:
        statuses.update(part.statuses)
    median = rates[len(rates) // 2]
    mark = "meets" if median >= TARGET_RPS else "BELOW"
    say(f"  {scenario.name}")
    say(
        f"    wall clock: median {median:6.0f} requests/s, best {rates[-1]:6.0f}, "
        f"worst {rates[0]:6.0f} ({mark} the {TARGET_RPS}/s target)"
    )
    per_cpu = sorted(r.per_cpu_second for r in rounds if r.per_cpu_second is not None)
    median_per_cpu = per_cpu[len(per_cpu) // 2] if per_cpu else None
    if median_per_cpu is not None:
        say(f"    per CPU-second of the sandbox: median {median_per_cpu:6.0f} requests")
    say(f"    statuses: {dict(sorted(statuses.items()))}")
    return median, median_per_cpu


if __name__ == "__main__":
    raise SystemExit(main())
