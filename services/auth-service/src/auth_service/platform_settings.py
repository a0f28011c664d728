"""The platforms' settings within auth-service's (`HERALD_AUTH_HOSTS__…`, `…_META__…`,
`…_INSTAGRAM__…`, `…_TIKTOK__…`): where each platform's hosts are, and the apps Herald signs in
with. Split from `settings.py` to keep modules small; `Settings` nests these."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator

# Webhook delivery marks are kept a day (handlers/maintenance.py); a freshness window must end
# well before its marks go, or a replay could arrive after its mark and still be fresh.
WEBHOOK_WINDOW_MAX_S = 43_200


class Section(BaseModel):
    model_config = {"extra": "forbid"}


class HostSettings(Section):
    """Base URLs of the platform hosts. Production: the real hosts. Tests and `make up`: the
    sandbox, which serves each host under a path prefix (`sandbox_url` fills every host)."""

    sandbox_url: str | None = Field(
        default=None, description="If set, every host below defaults to `<sandbox_url>/<host>`."
    )
    graph_facebook: str = "https://graph.facebook.com"
    www_facebook: str = "https://www.facebook.com"
    graph_instagram: str = "https://graph.instagram.com"
    api_instagram: str = "https://api.instagram.com"
    www_instagram: str = "https://www.instagram.com"
    open_tiktokapis: str = "https://open.tiktokapis.com"
    www_tiktok: str = "https://www.tiktok.com"

    @model_validator(mode="after")
    def _fill_from_sandbox(self) -> HostSettings:
        if self.sandbox_url:
            base = self.sandbox_url.rstrip("/")
            for name in type(self).model_fields:
                if name != "sandbox_url" and name not in self.model_fields_set:
                    host = name.replace("_", ".") + ".com"  # graph_facebook: graph.facebook.com
                    setattr(self, name, f"{base}/{host}")
        return self


class MetaAppSettings(Section):
    """The Meta app behind Facebook Login, Graph calls and WhatsApp Embedded Signup."""

    app_id: str = "100000000000001"
    app_secret: SecretStr = SecretStr("sandbox-meta-app-secret")
    graph_version: str = "v23.0"
    facebook_scopes: list[str] = Field(
        default_factory=lambda: [
            "pages_show_list",
            "pages_manage_posts",
            "pages_read_engagement",
            "read_insights",
        ]
    )
    instagram_scopes: list[str] = Field(
        default_factory=lambda: [
            "pages_show_list",
            "pages_read_engagement",
            "instagram_basic",
            "instagram_content_publish",
            "instagram_manage_insights",
        ]
    )
    whatsapp_scopes: list[str] = Field(
        default_factory=lambda: ["whatsapp_business_management", "whatsapp_business_messaging"]
    )
    whatsapp_config_id: str = Field(
        default="sandbox-embedded-signup",
        description="Facebook Login for Business configuration of WhatsApp Embedded Signup.",
    )
    pkce: bool = Field(default=False, description="Meta's PKCE flow is still marked testing.")
    signed_request_tolerance_s: int = Field(
        default=3_600,
        ge=1,
        le=WEBHOOK_WINDOW_MAX_S,
        description="A deauthorize or data-deletion signed_request whose issued_at is further "
        "from now is refused; a replay within it is refused by its delivery mark.",
    )


class InstagramAppSettings(Section):
    """The Instagram app behind Business Login for Instagram."""

    app_id: str = "200000000000002"
    app_secret: SecretStr = SecretStr("sandbox-instagram-app-secret")
    scopes: list[str] = Field(
        default_factory=lambda: [
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_insights",
        ]
    )


class TikTokAppSettings(Section):
    client_key: str = "sbawsandboxclientkey"
    client_secret: SecretStr = SecretStr("sandbox-tiktok-client-secret")
    scopes: list[str] = Field(
        default_factory=lambda: [
            "user.info.basic",
            "user.info.profile",
            "user.info.stats",
            "video.list",
            "video.upload",
            "video.publish",
        ]
    )
    pkce: bool = True
    previous_client_secret: SecretStr | None = Field(
        default=None,
        description="Also accepted on webhooks while the client secret is being rotated "
        "(publisher-tiktok forwards deliveries signed by either).",
    )
    webhook_tolerance_s: int = Field(default=300, ge=1, le=WEBHOOK_WINDOW_MAX_S)

    def webhook_secrets(self) -> tuple[str, ...]:
        """The secrets a webhook signature may use: the current one, then the previous one."""
        previous = self.previous_client_secret
        current = self.client_secret.get_secret_value()
        return (current,) if previous is None else (current, previous.get_secret_value())
