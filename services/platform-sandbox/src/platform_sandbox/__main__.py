"""`python -m platform_sandbox`: serve the sandbox until SIGTERM."""

from __future__ import annotations

from functools import partial

from herald.service import run_service
from platform_sandbox.app import SERVICE, create_app
from platform_sandbox.settings import Settings


def main() -> int:
    return run_service(
        SERVICE,
        Settings,
        partial(create_app, own_process=True),
        http=lambda s: s.http,
        log_settings=lambda s: s.log,
    )


if __name__ == "__main__":
    raise SystemExit(main())
