"""Fixtures: Meta's Cloud API schemas (`openapi/`, see its README), and for connected tests `env`,
publisher-whatsapp on topics of its own against the platform sandbox over real HTTP
(`publisher_testenv.whatsapp`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed

from publisher_testenv.env import env_fixture
from publisher_testenv.whatsapp import CloudApiContract, Env

SCHEMAS = Path(__file__).parent / "openapi" / "cloud_api_v23.yaml"
KEPT_MESSAGES = frozenset(
    {"TextMessage", "ImageMessage", "VideoMessage", "DocumentMessage", "AudioMessage"}
    | {"TemplateMessage"}
)
INDEX = "^[0-9]$"  # the description's "Position index of the button (0-9)"


def verbatim() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SCHEMAS.read_text())
    return loaded


def adjusted(document: dict[str, Any]) -> dict[str, Any]:
    """The three changes README.md explains."""
    fixed = copy.deepcopy(document)
    schemas = fixed["components"]["schemas"]
    for schema in schemas.values():
        for member in schema.get("allOf", []):
            if member.pop("additionalProperties", True) is False:
                schema["unevaluatedProperties"] = False
    schemas["TemplateComponent"]["properties"]["index"]["pattern"] = INDEX
    schemas["ButtonComponent"]["allOf"][1]["properties"]["index"]["pattern"] = INDEX
    message = schemas["Message"]
    message["oneOf"] = [r for r in message["oneOf"] if r["$ref"].rsplit("/", 1)[1] in KEPT_MESSAGES]
    mapping = message["discriminator"]["mapping"]
    message["discriminator"]["mapping"] = {
        k: v for k, v in mapping.items() if v.rsplit("/", 1)[1] in KEPT_MESSAGES
    }
    schemas["Change"]["properties"]["value"]["oneOf"] = [
        {"$ref": "#/components/schemas/StatusMessageValue"}
    ]
    return fixed


@pytest.fixture(scope="session")
def cloud_api() -> CloudApiContract:
    return CloudApiContract(adjusted(verbatim()))


@pytest.fixture(scope="session")
def cloud_api_verbatim() -> CloudApiContract:
    return CloudApiContract(verbatim())


env = env_fixture(Env)
