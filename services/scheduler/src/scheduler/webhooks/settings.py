"""Settings of outbound webhooks, nested in the scheduler's (`HERALD_SCHEDULER_WEBHOOKS__…`)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator

from herald.topics import DELAY_TIERS

DAY_S = 86400


class SecretVaultSettings(BaseModel):
    """The keyring sealing endpoints' signing secrets at rest (`herald.sealing`, ADR 0021)."""

    model_config = {"extra": "forbid"}

    keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Keyring: key id -> base64 of a 32-byte AES-256 key; older keys keep opening "
        "what they sealed (re-sealed under the primary at start). Required in production, and "
        "in development unless the server listens on loopback only, where a public "
        "development key stands in.",
    )
    primary_kid: str | None = Field(
        default=None, description="The key id new secrets are sealed with (the only key: itself)."
    )


class WebhookSettings(BaseModel):
    model_config = {"extra": "forbid"}

    vault: SecretVaultSettings = Field(default_factory=SecretVaultSettings)

    enabled: bool = Field(default=True, description="Run the delivery loop in this replica.")
    allow_loopback: bool = Field(
        default=False,
        description="Accept endpoints on loopback addresses (127.0.0.0/8, ::1, localhost), for "
        "local runs and tests; a production scheduler refuses to start with it. Every other "
        "non-public address stays refused whatever this says (the media fetcher's rules, "
        "ADR 0002).",
    )
    allowed_schemes: list[str] = Field(default_factory=lambda: ["https"])
    allowed_ports: list[int] | None = Field(
        default_factory=lambda: [443, 8443], description="null: any port."
    )
    retry_delays_s: list[float] = Field(
        default_factory=lambda: [float(s) for s in DELAY_TIERS.values()],
        min_length=1,
        description="Wait before each retry of a failed delivery; the last one repeats until "
        "`give_up_after_s`. Default: Herald's delay tiers (10 s, 1 min, 10 min, 1 h).",
    )
    give_up_after_s: float = Field(
        default=DAY_S,
        gt=0,
        description="A delivery failing this long after its first attempt "
        "is given up (it stays in the log and can be redelivered).",
    )
    disable_after_s: float = Field(
        default=5 * DAY_S,
        gt=0,
        description="An endpoint whose deliveries have all failed for this long is disabled "
        "and the business told (`webhook.endpoint_disabled`).",
    )
    expiring_days_ahead: int = Field(
        default=7,
        ge=1,
        le=60,
        description="Days before a connection ends that `integration.expiring` is sent.",
    )
    expiry_check_s: float = Field(default=3600.0, gt=0, description="How often to look.")
    endpoints_cache_s: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="A business's endpoints are read at most this often for its notices; a "
        "change made through this replica applies at once, through another within this time. "
        "0: read for every notice.",
    )
    poll_s: float = Field(default=1.0, gt=0, description="How often due deliveries are sent.")
    timeout_s: float = Field(default=10.0, gt=0, description="Whole request, per attempt.")
    batch: int = Field(default=50, ge=1, le=1000, description="Deliveries sent per pass.")
    max_endpoints: int = Field(default=20, ge=1, le=1000, description="Per business.")
    keep_days: float = Field(
        default=30.0,
        gt=0,
        description="Finished deliveries and their attempts are deleted this long after.",
    )
    max_overlap_s: int = Field(
        default=7 * DAY_S, ge=0, description="Longest overlap a secret rotation may ask for."
    )

    @model_validator(mode="after")
    def _sane(self) -> WebhookSettings:
        if any(d <= 0 for d in self.retry_delays_s):
            msg = "webhooks.retry_delays_s: every delay must be positive"
            raise ValueError(msg)
        if not set(self.allowed_schemes) <= {"http", "https"}:
            msg = "webhooks.allowed_schemes: only http and https"
            raise ValueError(msg)
        return self
