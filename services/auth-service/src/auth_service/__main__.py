"""`python -m auth_service`: read settings from the environment, then serve until SIGTERM.
`python -m auth_service admin <command>`: the operators' commands (see `cli.py`)."""

from __future__ import annotations

import sys

from auth_service.app import SERVICE, create_app
from auth_service.settings import Settings
from herald.service import run_service


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["admin"]:
        from auth_service.cli import main as admin  # noqa: PLC0415 - only the CLI needs argparse

        return admin(args[1:])
    return run_service(
        SERVICE,
        Settings,
        create_app,
        http=lambda s: s.http,
        log_settings=lambda s: s.log,
        argv=args,
        commands="commands:\n  admin <command>   the operators' commands (admin --help lists them)",
    )


if __name__ == "__main__":
    raise SystemExit(main())
