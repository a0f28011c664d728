"""The keyring of the console's session cookies (ADR 0024), the rule of the scheduler's webhook
vault (`scheduler.webhooks.wiring`): in production, or when the server listens beyond loopback,
the console refuses to start without keys or with the public development key, naming the
variable; a malformed keyring refuses the start anywhere. A local run on loopback without keys
gets the development key, which anyone can read here, so only this machine reaches it."""

from __future__ import annotations

import base64

import structlog

from console.sessions import DOMAIN
from console.settings import Settings
from herald.sealing import Keyring, decode_key, deployment_problems
from herald.settings import ConfigurationError

log = structlog.get_logger(__name__)
KEYS = "HERALD_CONSOLE_SESSIONS"
DEV_SESSION_KEY = base64.b64encode(b"herald-dev-console-session-key!!").decode()


def keyring(settings: Settings) -> Keyring:
    """The keyring sealing session cookies; ConfigurationError listing what `refusals` names."""
    problems = refusals(settings)
    if problems:
        lines = "\n  ".join(problems)
        msg = f"invalid configuration for console ({settings.environment}):\n  {lines}"
        raise ConfigurationError(msg)
    keys = {kid: v.get_secret_value() for kid, v in settings.sessions.keys.items()}
    if not keys:
        log.warning("console.development_session_key", hint=f"set {KEYS}__KEYS outside local runs")
        keys = {"dev": DEV_SESSION_KEY}
    ring = {kid: decode_key(value) or b"" for kid, value in keys.items()}
    return Keyring(ring, settings.sessions.primary_kid or next(iter(ring)), domain=DOMAIN)


def refusals(settings: Settings) -> list[str]:
    """What unfits the keyring, each naming its variable: a malformed key anywhere; no key, or
    the public development key, in production or when the server listens beyond loopback."""
    keys = {kid: v.get_secret_value() for kid, v in settings.sessions.keys.items()}
    return deployment_problems(
        keys,
        settings.sessions.primary_kid,
        KEYS,
        development_key=DEV_SESSION_KEY,
        sealed="session cookies",
        production=settings.environment == "production",
        environment_variable="HERALD_CONSOLE_ENVIRONMENT",
        host=settings.http.host,
    )
