"""`python -m auth_service admin <command>`: operators' commands, printing JSON.

    create-business --name NAME
    create-api-key --business BUSINESS_ID [--name NAME] [--scopes a,b]   (the key is shown once)
    revoke-api-key KEY_ID
    list
    rotate-keys                 re-encrypt every record under the primary key (service may run)
    refresh --once              one refresh pass (what the ancestor's daily command did)

Settings come from the same environment as the service; exit 2 on bad configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from auth_service.adapters.mongo import ensure_indexes
from auth_service.api.views import business_view, key_view
from auth_service.composition import SERVICE, Components, build_components
from auth_service.errors import AuthServiceError
from auth_service.handlers import keys
from auth_service.handlers.base import Deps
from auth_service.handlers.maintenance import refresh_pass, rotate_keys
from auth_service.settings import Settings
from herald.kafka import start_broker
from herald.logging import configure_logging
from herald.mongo import wait_for_mongo
from herald.settings import ConfigurationError, load_settings

Command = Callable[[Deps, argparse.Namespace], Awaitable[Any]]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m auth_service admin", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    business = sub.add_parser("create-business", help="create a business")
    business.add_argument("--name", required=True)
    key = sub.add_parser("create-api-key", help="issue an API key (shown once)")
    key.add_argument("--business", required=True)
    key.add_argument("--name", default="default")
    key.add_argument("--scopes", default=None, help="comma-separated; default: every scope")
    revoke = sub.add_parser("revoke-api-key", help="revoke an API key")
    revoke.add_argument("key_id")
    sub.add_parser("list", help="businesses and their keys (never secrets)")
    sub.add_parser("rotate-keys", help="re-encrypt every record under the primary key")
    refresh = sub.add_parser("refresh", help="refresh tokens that are due")
    refresh.add_argument("--once", action="store_true", required=True, help="one pass, then exit")
    return root


async def _create_business(deps: Deps, args: argparse.Namespace) -> Any:
    return business_view(await keys.create_business(deps, args.name), []).model_dump(mode="json")


async def _create_key(deps: Deps, args: argparse.Namespace) -> Any:
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()] if args.scopes else None
    issued = await keys.create_api_key(deps, args.business, args.name, scopes)
    return key_view(issued.record).model_dump(mode="json") | {"key": issued.key}


async def _revoke(deps: Deps, args: argparse.Namespace) -> Any:
    return key_view(await keys.revoke_api_key(deps, args.key_id)).model_dump(mode="json")


async def _list(deps: Deps, _: argparse.Namespace) -> Any:
    found = await keys.list_businesses(deps)
    return {"businesses": [business_view(b, k).model_dump(mode="json") for b, k in found]}


async def _rotate(deps: Deps, _: argparse.Namespace) -> Any:
    report = await rotate_keys(deps)
    return {
        "primary_kid": report.primary_kid,
        "rewrapped": report.rewrapped,
        "busy_retries": report.busy_retries,
        "failed": report.failed,
        "records_by_kid": report.by_kid,
    }


async def _refresh(deps: Deps, _: argparse.Namespace) -> Any:
    return vars(await refresh_pass(deps))


COMMANDS: dict[str, tuple[Command, bool]] = {  # command -> (handler, needs Kafka for events)
    "create-business": (_create_business, False),
    "create-api-key": (_create_key, False),
    "revoke-api-key": (_revoke, False),
    "list": (_list, False),
    "rotate-keys": (_rotate, False),
    "refresh": (_refresh, True),
}


async def run(components: Components, settings: Settings, args: argparse.Namespace) -> Any:
    handler, needs_kafka = COMMANDS[args.command]
    await wait_for_mongo(components.infra.mongo, settings.mongo)
    await ensure_indexes(components.infra.mongo[settings.database])
    if needs_kafka:
        await start_broker(components.infra.broker, settings.kafka)
    try:
        return await handler(components.deps, args)
    finally:
        await components.close_http()
        await components.infra.stop()


def _logs_to_stderr() -> None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    try:
        settings = load_settings(Settings)
        configure_logging(settings.log, service=f"{SERVICE}-admin")
        _logs_to_stderr()  # stdout carries the command's JSON answer only
        components = build_components(settings)
    except ConfigurationError as exc:
        print(f"{SERVICE}: refusing to run: {exc}", file=sys.stderr)  # noqa: T201 - a CLI speaks
        return 2
    try:
        result = asyncio.run(run(components, settings, args))
    except AuthServiceError as exc:
        print(json.dumps({"error": exc.code, "message": exc.message}), file=sys.stderr)  # noqa: T201 - a CLI speaks
        return 1
    print(json.dumps(result, indent=2, default=str))  # noqa: T201 - a CLI prints its answer
    return 0
