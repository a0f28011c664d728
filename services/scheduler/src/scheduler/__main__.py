"""`python -m scheduler`: read settings from the environment, then serve until SIGTERM.
`python -m scheduler process-campaigns --once`: run one campaign pass and exit."""

from __future__ import annotations

import sys

from herald.service import run_service
from scheduler.app import SERVICE, create_app
from scheduler.settings import Settings


def main(argv: list[str]) -> int:
    if argv[:1] == ["process-campaigns"]:
        from scheduler.cli import main as campaigns  # noqa: PLC0415 - only this command needs it

        return campaigns(argv[1:])
    return run_service(
        SERVICE,
        Settings,
        create_app,
        http=lambda s: s.http,
        log_settings=lambda s: s.log,
        argv=argv,
        commands="commands:\n  process-campaigns --once   run one campaign pass and exit",
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
