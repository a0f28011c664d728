"""Domain objects as response bodies. No token ever leaves through these except `token`."""

from __future__ import annotations

from datetime import datetime

from auth_service.api.schemas import (
    ApiKeyView,
    BusinessView,
    IntegrationHealth,
    IntegrationInfo,
    TokenResponse,
)
from auth_service.domain import (
    ApiKeyRecord,
    Business,
    Integration,
    Margins,
    reauth_deadline,
    reported_status,
)
from auth_service.handlers.tokens import UsableToken


def health(integration: Integration, now: datetime, margins: Margins) -> IntegrationHealth:
    return IntegrationHealth(
        integration_id=integration.id,
        platform=integration.platform,
        account_id=integration.account_id,
        account_name=integration.account_name,
        account=dict(integration.account),
        status=reported_status(integration, now, margins),
        scopes=list(integration.scopes),
        connected_at=integration.connected_at,
        last_used_at=integration.last_used_at,
        last_refresh_at=integration.last_refresh_at,
        last_checked_at=integration.last_checked_at,
        expires_at=integration.expires_at,
        reauthorize_by=reauth_deadline(integration),
        last_error=integration.last_error,
        reason=integration.reason,
        disconnected_at=integration.disconnected_at,
    )


def info(integration: Integration, now: datetime, margins: Margins) -> IntegrationInfo:
    return IntegrationInfo(
        integration_id=integration.id,
        business_id=integration.business_id,
        platform=integration.platform,
        account_id=integration.account_id,
        account_name=integration.account_name,
        status=reported_status(integration, now, margins),
        expires_at=integration.expires_at,
        scopes=list(integration.scopes),
    )


def token(usable: UsableToken) -> TokenResponse:
    integration = usable.integration
    return TokenResponse(
        access_token=usable.access_token,
        expires_at=integration.expires_at,
        platform=integration.platform,
        account_id=integration.account_id,
        account=dict(integration.account),
        scopes=list(integration.scopes),
    )


def key_view(record: ApiKeyRecord) -> ApiKeyView:
    return ApiKeyView.model_validate(
        {
            "key_id": record.key_id,
            "business_id": record.business_id,
            "name": record.name,
            "scopes": list(record.scopes),
            "created_at": record.created_at,
            "revoked_at": record.revoked_at,
            "last_used_at": record.last_used_at,
            "event_key": record.event_key,
        }
    )


def business_view(business: Business, keys: list[ApiKeyRecord]) -> BusinessView:
    return BusinessView(
        business_id=business.id,
        name=business.name,
        timezone=business.timezone,
        created_at=business.created_at,
        api_keys=[key_view(k) for k in keys],
    )
