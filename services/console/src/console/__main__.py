"""`python -m console`: serve the console until SIGTERM."""

from __future__ import annotations

from console.app import SERVICE, create_app
from console.settings import Settings
from herald.service import run_service


def main() -> int:
    return run_service(
        SERVICE, Settings, create_app, http=lambda s: s.http, log_settings=lambda s: s.log
    )


if __name__ == "__main__":
    raise SystemExit(main())
