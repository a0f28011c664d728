"""`python -m publisher_tiktok`: read settings from the environment, then serve until SIGTERM."""

from __future__ import annotations

from herald.service import run_service
from publisher_tiktok.app import create_app
from publisher_tiktok.settings import Settings


def main() -> int:
    return run_service(
        "publisher-tiktok",
        Settings,
        create_app,
        http=lambda s: s.http,
        log_settings=lambda s: s.log,
    )


if __name__ == "__main__":
    raise SystemExit(main())
