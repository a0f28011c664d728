"""`herald-stack`: install, start, stop and inspect the local stack (`make up` / `make down`)."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys

from herald_localstack import demo, ferretdb, kafka, postgres, services, stack
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError


def _say(line: str) -> None:
    print(f"herald-stack: {line}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="herald-stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="fetch Kafka's jars and build FerretDB (cached)")
    p_up = sub.add_parser("up", help="start Kafka, FerretDB, topics and the services")
    p_up.add_argument(
        "--infra-only", action="store_true", help="start Kafka, PostgreSQL and FerretDB only"
    )
    p_up.add_argument("--no-demo", action="store_true", help="skip the demo on the sandbox")
    sub.add_parser("demo", help="connect the sandbox accounts and publish a demo post")
    sub.add_parser("down", help="stop everything this checkout started")
    sub.add_parser("status", help="show what runs, where")
    sub.add_parser("provision", help="create Herald's topics with their partition counts")
    p_logs = sub.add_parser("logs", help="show a component's log")
    p_logs.add_argument("component", choices=["kafka", "ferretdb", "postgres", "services"])
    p_logs.add_argument("-n", "--lines", type=int, default=50)
    p_logs.add_argument("-f", "--follow", action="store_true")
    args = parser.parse_args(argv)
    # aiokafka logs every refused connection while the broker boots; readiness speaks for it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        cfg = StackConfig.from_env()
        return _run(args, cfg)
    except (StackError, ValueError) as exc:
        print(f"herald-stack: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, cfg: StackConfig) -> int:
    if args.command == "install":
        report = stack.Report()
        stack.install(cfg, report, _say)
        _print_timings(report)
    elif args.command == "up":
        report = stack.up(cfg, _say, with_services=not args.infra_only)
        if report.already_running and not report.started:
            _say("already up: " + ", ".join(report.already_running))
        _print_timings(report)
        _print_status(cfg)
        if not (args.infra_only or args.no_demo):
            demo.run(cfg, _say)
    elif args.command == "demo":
        demo.run(cfg, _say)
    elif args.command == "down":
        stopped = stack.down(cfg)
        _say("stopped " + ", ".join(stopped) if stopped else "nothing was running")
    elif args.command == "status":
        _print_status(cfg)
    elif args.command == "provision":
        created, existing = stack.provision(cfg)
        _say(f"topics created: {len(created)}, already there: {len(existing)}")
    elif args.command == "logs":
        managed = {
            "kafka": kafka.managed,
            "ferretdb": ferretdb.managed,
            "postgres": postgres.managed,
            "services": services.managed,
        }
        log = managed[args.component](cfg).logfile
        cmd = ["tail", "-n", str(args.lines), *(["-F"] if args.follow else []), str(log)]
        return subprocess.call(cmd)
    return 0


def _print_timings(report: stack.Report) -> None:
    for name, seconds in report.timings.items():
        _say(f"{name}: {seconds:.1f} s")


def _print_status(cfg: StackConfig) -> None:
    for name, state, detail in stack.status(cfg):
        print(f"  {name:<20} {state:<10} {detail}")


if __name__ == "__main__":
    raise SystemExit(main())
