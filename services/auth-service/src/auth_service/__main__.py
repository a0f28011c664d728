"""`python -m auth_service`: read settings from the environment, then serve until SIGTERM."""

from __future__ import annotations

from auth_service.app import SERVICE, create_app
from auth_service.settings import Settings
from herald.service import run_service


def main() -> int:
    return run_service(
        SERVICE, Settings, create_app, http=lambda s: s.http, log_settings=lambda s: s.log
    )


if __name__ == "__main__":
    raise SystemExit(main())
