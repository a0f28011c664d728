"""The JSON bodies of auth-service's HTTP API, as documented in its OpenAPI description."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from auth_service.domain import known_timezone
from herald.events import IntegrationStatus
from herald.topics import Platform

Scope = Literal["posts:write", "posts:read", "integrations:read", "integrations:write"]


# Text in a body is refused before validation when it holds NUL (`strict_json`: FerretDB's
# PostgreSQL cannot store it), so the document says so: a schema-valid body is accepted.
NO_NUL = "^[^\\u0000]*$"


def no_nul_text(schema: dict[str, Any]) -> None:
    """`json_schema_extra`: every free-text property of a request body excludes NUL."""
    for prop in schema.get("properties", {}).values():
        for option in [prop, *prop.get("anyOf", [])]:
            free = not {"pattern", "format", "enum", "const"} & option.keys()
            if option.get("type") == "string" and free:
                option["pattern"] = NO_NUL


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=no_nul_text)


class ErrorBody(BaseModel):
    error: str = Field(description="A stable code, e.g. unauthorized, not_found, needs_reauth.")
    message: str
    integration_id: str | None = None
    status: str | None = None
    reason: str | None = None
    remediation: str | None = Field(
        default=None, description="What to do about it (Embedded Signup refusals)."
    )
    not_granted: str | None = Field(
        default=None, description="assets_not_granted: the ids the token does not grant."
    )
    missing: str | None = Field(
        default=None, description="missing_permission: the permissions not granted."
    )
    field: str | None = Field(
        default=None, description="The request field a refusal is about (console users)."
    )
    choices: str | None = Field(
        default=None,
        description="business_id at sign-in: the person's businesses, comma-separated ids.",
    )
    retry_after_s: str | None = Field(
        default=None, description="too_many_attempts: seconds until sign-in may be tried again."
    )


class IntrospectRequest(_Body):
    key: str = Field(
        max_length=512,
        description="An API key, `hk_<key_id>_<secret>`, or a console session, `hs_<id>_<secret>`.",
    )


class IntrospectResponse(BaseModel):
    active: bool
    business_id: str | None = None
    key_id: str | None = None
    scopes: list[Scope] | None = None


class KeyLookupRequest(_Body):
    key_id: str = Field(
        min_length=1, max_length=64, description="The id part of an API key, hk_<key_id>_..."
    )


class KeyLookupResponse(IntrospectResponse):
    event_key: str | None = Field(
        default=None,
        description="base64url Ed25519 public key that verifies post.submitted events signed "
        "with this key (herald.producerauth); absent for keys issued before signing existed.",
    )


class IntegrationInfo(BaseModel):
    integration_id: str
    business_id: str
    platform: Platform
    account_id: str
    account_name: str | None
    status: IntegrationStatus
    expires_at: AwareDatetime | None
    scopes: list[str]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type name, not a secret
    expires_at: AwareDatetime | None
    platform: Platform
    account_id: str
    account: dict[str, str] = Field(
        description="Platform ids: page_id; ig_user_id (+ page_id, login); phone_number_id, "
        "waba_id; open_id."
    )
    scopes: list[str]


class IntegrationHealth(BaseModel):
    integration_id: str
    platform: Platform
    account_id: str
    account_name: str | None
    account: dict[str, str]
    status: IntegrationStatus
    scopes: list[str]
    connected_at: AwareDatetime
    last_used_at: AwareDatetime | None
    last_refresh_at: AwareDatetime | None
    last_checked_at: AwareDatetime | None
    expires_at: AwareDatetime | None = Field(description="When the access token expires.")
    reauthorize_by: AwareDatetime | None = Field(
        description="When a person must reconnect unless the service renews it first."
    )
    last_error: str | None
    reason: str | None
    disconnected_at: AwareDatetime | None


class IntegrationList(BaseModel):
    integrations: list[IntegrationHealth]


class Disconnected(BaseModel):
    integration: IntegrationHealth
    provider_revoked: bool = Field(description="Whether the grant was revoked at the platform.")


class ConnectResponse(BaseModel):
    provider: Platform
    login: Literal["facebook", "instagram", "tiktok"]
    authorize_url: str = Field(
        description="Herald's start link: send the person's browser here. It binds the "
        "connection to that browser with a cookie, then redirects to the platform's page; a "
        "callback from any other browser is refused."
    )
    state_expires_at: AwareDatetime


class CallbackResponse(BaseModel):
    status: Literal["connected"]
    provider: Platform
    integrations: list[IntegrationHealth]


class NewBusiness(_Body):
    name: str = Field(min_length=1, max_length=200)
    timezone: str | None = Field(
        default=None, max_length=64, description="Its IANA time zone, e.g. `Europe/Berlin`."
    )

    @field_validator("timezone")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return None if value is None else known_timezone(value)


class NewApiKey(_Body):
    name: str = Field(default="default", min_length=1, max_length=200)
    scopes: list[Scope] | None = Field(default=None, description="Default: every scope.")


class ApiKeyView(BaseModel):
    key_id: str
    business_id: str
    name: str
    scopes: list[Scope]
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None
    last_used_at: AwareDatetime | None
    event_key: str | None = Field(
        default=None,
        description="The public key that verifies post.submitted events signed with this key "
        "(docs/events.md); a producer can compare it with its own derivation.",
    )


class IssuedKey(ApiKeyView):
    key: str = Field(description="Shown once; only a hash is stored.")


class BusinessView(BaseModel):
    business_id: str
    name: str
    timezone: str | None = None
    created_at: AwareDatetime
    api_keys: list[ApiKeyView] = Field(default_factory=list)


class BusinessList(BaseModel):
    businesses: list[BusinessView]


class RotationView(BaseModel):
    primary_kid: str
    rewrapped: int
    busy_retries: int
    failed: list[str]
    records_by_kid: dict[str, int]


class RefreshPassView(BaseModel):
    refreshed: int
    checked: int
    expired: int
    failed: int
    busy: int


class WebhookResult(BaseModel):
    disconnected: int


class DeletionConfirmation(BaseModel):
    url: str
    confirmation_code: str


class DeletionStatus(BaseModel):
    confirmation_code: str
    status: str
    integrations: int
