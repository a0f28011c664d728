"""publisher-whatsapp's connected-test environment (its connected tests' and the WhatsApp
benchmark's): its settings pointed at the sandbox with the sandbox's app secret (so its signed
webhooks pass and `appsecret_proof` matches), a system-user token of the demo WABA, the publisher
served over HTTP, and the Cloud API's published schemas as a contract."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import jsonschema_rs
from fastapi import FastAPI
from pydantic import SecretStr

from herald.testkit.servers import serving_in_thread
from herald.topics import Platform
from platform_sandbox.testing.tokens import Grant, whatsapp_grant
from publisher_testenv.env import PublisherEnv, graph_settings
from publisher_whatsapp.app import create_app
from publisher_whatsapp.settings import Settings

# The sandbox's published default Meta app secret, and a verify token for tests: not credentials.
APP_SECRET = "sandbox-meta-app-secret"  # noqa: S105 - the sandbox's public test secret
VERIFY_TOKEN = "herald-verify"  # noqa: S105 - a test value


class Env(PublisherEnv):
    PLATFORM = Platform.WHATSAPP

    @classmethod
    def sandbox_settings(cls, port: int) -> dict[str, Any]:
        return {}

    def grant(self) -> Grant:
        return whatsapp_grant(self.sandbox.demo)

    def settings(self, **overrides: Any) -> Settings:
        url = self.sandbox.url
        values = self.common_settings(lease_s=10.0) | {
            "graph": graph_settings(url, read_timeout_s=5.0, app_secret=SecretStr(APP_SECRET)),
            "fetcher": {"allowed_origins": [f"{url}/_sandbox/media/"]},
            "webhook": {"verify_token": VERIFY_TOKEN},
            "send": {"retry_backoff_s": [1.0], "pair_backoff_s": 2.0},
        }
        return Settings.model_validate(values | overrides)

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings(**overrides), tokens=self.tokens, names=self.names)

    @contextmanager
    def serving(self, **overrides: Any) -> Iterator[str]:
        """The publisher under uvicorn in a thread; yields its base URL."""
        with serving_in_thread(self.app(**overrides)) as url:
            yield url


def per_second(entries: Sequence[dict[str, Any]]) -> Counter[int]:
    """Accepted messages in each whole second of the sandbox's clock."""
    return Counter(int(float(e["at_unix"])) for e in entries)


class CloudApiContract:
    """Validates instances against a named schema of the Cloud API's document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def errors(self, schema: str, instance: Any) -> list[str]:
        root = {**self.document, "$ref": f"#/components/schemas/{schema}"}
        validator = jsonschema_rs.Draft202012Validator(root)
        return [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(instance)]

    def message_errors(self, body: Any) -> list[str]:
        """Against the `/messages` request body schema (`Message`)."""
        return self.errors("Message", body)

    def upload_fields(self) -> dict[str, Any]:
        path = self.document["paths"]["/{Version}/{Phone-Number-ID}/media"]
        schema: dict[str, Any] = path["post"]["requestBody"]["content"]["multipart/form-data"][
            "schema"
        ]
        return schema
