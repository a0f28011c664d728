"""`python -m publisher_facebook`: read settings from the environment, then serve until SIGTERM."""

from __future__ import annotations

from herald.service import run_service
from publisher_facebook.app import create_app
from publisher_facebook.settings import Settings


def main() -> int:
    return run_service(
        "publisher-facebook",
        Settings,
        create_app,
        http=lambda s: s.http,
        log_settings=lambda s: s.log,
    )


if __name__ == "__main__":
    raise SystemExit(main())
