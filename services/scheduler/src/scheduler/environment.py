"""Whether the scheduler's settings are fit for where it runs (`HERALD_SCHEDULER_ENVIRONMENT`).

The rule of auth-service (its settings module, issue 19): in `production` the scheduler refuses
to start without its token for auth-service or with a development-only setting, the public
webhook-secret key or loopback webhook destinations; in `development` it accepts the public
key only while the server listens on a loopback address, so nothing but this machine reaches
it. A malformed keyring refuses the start anywhere. Each refusal names its variable. The chart
and the compose file run production; the local stack and the tests run development.
"""

from __future__ import annotations

from herald.settings import ConfigurationError
from scheduler.settings import PREFIX, Settings
from scheduler.webhooks.wiring import keyring_refusals


def startup_problems(settings: Settings) -> list[str]:
    """Every setting unfit for this run's environment, named by its environment variable."""
    production = settings.environment == "production"
    hooks = settings.webhooks
    problems = keyring_refusals(hooks, http_host=settings.http.host, production=production)
    if not production:
        return problems
    if not settings.auth.service_token.get_secret_value().strip():
        problems.append(
            f"{PREFIX}AUTH__SERVICE_TOKEN: is missing; set this service's token for "
            "auth-service's /internal (the `scheduler` entry of HERALD_AUTH_SERVICE_TOKENS)"
        )
    if hooks.allow_loopback:
        problems.append(
            f"{PREFIX}WEBHOOKS__ALLOW_LOOPBACK: admits webhook endpoints on loopback addresses, "
            "for local runs and tests only; unset it in production"
        )
    return problems


def refuse_unfit(settings: Settings) -> None:
    """Raise ConfigurationError listing `startup_problems`, if any (the service exits with 2)."""
    problems = startup_problems(settings)
    if problems:
        lines = "\n  ".join(problems)
        msg = f"invalid configuration for scheduler ({settings.environment}):\n  {lines}"
        raise ConfigurationError(msg)
