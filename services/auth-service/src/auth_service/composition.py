"""Building everything a running auth-service holds, from settings: the vault, the platform
gateways, the repositories and the handlers' `Deps`. `app.create_app` (the server) and `cli`
(the admin commands) both build through here, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import structlog
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from auth_service.adapters.clock import SystemClock
from auth_service.adapters.graph import MetaApp
from auth_service.adapters.instagram import InstagramApp, InstagramGateway
from auth_service.adapters.meta import FacebookGateway, WhatsAppGateway
from auth_service.adapters.mongo import (
    MongoApiKeys,
    MongoBusinesses,
    MongoIntegrations,
    MongoOutbox,
)
from auth_service.adapters.mongo_flow import (
    MongoDeletions,
    MongoDeliveries,
    MongoLocks,
    MongoStates,
)
from auth_service.adapters.mongo_people import MongoPeople
from auth_service.adapters.onboarding import MetaOnboarding
from auth_service.adapters.passwords import Argon2Passwords
from auth_service.adapters.tiktok import TikTokGateway
from auth_service.domain import Margins
from auth_service.handlers.base import Deps, Policy
from auth_service.handlers.people import People, PeoplePolicy
from auth_service.metrics import PrometheusMetrics
from auth_service.ports import Clock, EventEmitter, ProviderGateway, WhatsAppOnboarding
from auth_service.settings import DEV_VAULT_KEY, Settings, secret_problems
from auth_service.vault import Vault
from herald.emitter import KafkaEmitter
from herald.infra import Infra
from herald.mongo import Document
from herald.sealing import decode_key
from herald.settings import ConfigurationError
from herald.topics import Platform, TopicNames
from herald.tracing import traced_transport

log = structlog.get_logger(__name__)
SERVICE = "auth-service"


@dataclass
class Components:
    deps: Deps
    infra: Infra
    http: httpx.AsyncClient
    owns_http: bool
    registry: CollectorRegistry
    settings: Settings
    onboarding: WhatsAppOnboarding | None = None  # Embedded Signup by the JS SDK (ADR 0018)
    people: People | None = None  # console users and their sessions (ADR 0024)

    async def close_http(self) -> None:
        if self.owns_http:
            await self.http.aclose()


def check_settings(settings: Settings) -> None:
    problems = secret_problems(settings)
    if problems:
        lines = "\n  ".join(problems)
        msg = f"invalid configuration for {SERVICE} ({settings.environment}):\n  {lines}"
        raise ConfigurationError(msg)


def build_vault(settings: Settings) -> Vault:
    keys = {kid: decode_key(v.get_secret_value()) for kid, v in settings.vault.keys.items()}
    ring = {kid: key for kid, key in keys.items() if key is not None}
    if not ring:  # development only (check_settings refuses this elsewhere)
        log.warning("vault.development_key", hint="set HERALD_AUTH_VAULT__KEYS outside dev")
        return Vault({"dev": decode_key(DEV_VAULT_KEY) or b""}, "dev")
    return Vault(ring, settings.vault.primary_kid or next(iter(ring)))


def meta_app(settings: Settings, http: httpx.AsyncClient, clock: Clock) -> MetaApp:
    hosts, meta = settings.hosts, settings.meta
    return MetaApp(
        http=http,
        clock=clock,
        graph_url=hosts.graph_facebook,
        dialog_url=hosts.www_facebook,
        version=meta.graph_version,
        app_id=meta.app_id,
        app_secret=meta.app_secret.get_secret_value(),
    )


def build_providers(
    settings: Settings, http: httpx.AsyncClient, clock: Clock
) -> dict[Platform, ProviderGateway]:
    hosts, meta, ig, tt = settings.hosts, settings.meta, settings.instagram, settings.tiktok
    app = meta_app(settings, http, clock)
    instagram = InstagramApp(
        http=http,
        clock=clock,
        authorize_url=hosts.www_instagram,
        api_url=hosts.api_instagram,
        graph_url=hosts.graph_instagram,
        app_id=ig.app_id,
        app_secret=ig.app_secret.get_secret_value(),
        scopes=ig.scopes,
    )
    tiktok = TikTokGateway(
        http=http,
        clock=clock,
        authorize_url=hosts.www_tiktok,
        api_url=hosts.open_tiktokapis,
        client_key=tt.client_key,
        client_secret=tt.client_secret.get_secret_value(),
        scopes=tt.scopes,
        pkce=tt.pkce,
    )
    return {
        Platform.FACEBOOK: FacebookGateway(app, meta.facebook_scopes, meta.pkce),
        Platform.INSTAGRAM: InstagramGateway(app, meta.instagram_scopes, instagram),
        Platform.WHATSAPP: WhatsAppGateway(app, meta.whatsapp_scopes, meta.whatsapp_config_id),
        Platform.TIKTOK: tiktok,
    }


def policy_of(settings: Settings) -> Policy:
    r = settings.refresh
    return Policy(
        pepper=settings.api_key_pepper.get_secret_value(),
        public_base_url=settings.public_base_url,
        state_ttl_s=settings.oauth.state_ttl_s,
        margins=Margins(r.margin_s, r.long_lived_margin_s, r.check_interval_s, r.expiring_window_s),
        lease_s=r.lease_s,
        wait_s=r.wait_s,
        retry_after_s=r.retry_after_s,
        batch=r.batch,
        coalesce_s=r.coalesce_s,
        meta_app_secret=settings.meta.app_secret.get_secret_value(),
        instagram_app_secret=settings.instagram.app_secret.get_secret_value(),
        tiktok_client_secrets=settings.tiktok.webhook_secrets(),
        tiktok_tolerance_s=settings.tiktok.webhook_tolerance_s,
        meta_tolerance_s=settings.meta.signed_request_tolerance_s,
        completion_url=settings.oauth.completion_url,
        return_urls=tuple(settings.oauth.return_urls),
    )


def build_components(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    http_client: httpx.AsyncClient | None = None,
    emitter: EventEmitter | None = None,
    clock: Clock | None = None,
) -> Components:
    """Everything, built without I/O; `ConfigurationError` names each unfit setting."""
    check_settings(settings)
    registry = CollectorRegistry()
    names = TopicNames(prefix=settings.topic_prefix)
    infra = Infra.build(
        kafka=settings.kafka,
        mongo=settings.mongo,
        client_id=f"herald-{SERVICE}",
        broker=broker,
        mongo_client=mongo,
        registry=registry,
        topics=names.for_service(SERVICE).names,
    )
    db = infra.mongo[settings.database]
    http = http_client or httpx.AsyncClient(
        timeout=settings.oauth.http_timeout_s, follow_redirects=False, transport=traced_transport()
    )
    the_clock = clock or SystemClock()
    deps = Deps(
        businesses=MongoBusinesses(db),
        keys=MongoApiKeys(db),
        integrations=MongoIntegrations(db),
        states=MongoStates(db),
        locks=MongoLocks(db),
        deletions=MongoDeletions(db),
        deliveries=MongoDeliveries(db),
        providers=build_providers(settings, http, the_clock),
        vault=build_vault(settings),
        emitter=emitter or KafkaEmitter(infra.broker, source=f"herald/{SERVICE}"),
        clock=the_clock,
        metrics=PrometheusMetrics(registry),
        policy=policy_of(settings),
        events_topic=names.integration_events,
        outbox=MongoOutbox(db),
    )
    onboarding = MetaOnboarding(meta_app(settings, http, the_clock))
    policy = PeoplePolicy(**settings.people.model_dump())
    people = People(MongoPeople(db), Argon2Passwords(), policy)
    return Components(
        deps, infra, http, http_client is None, registry, settings, onboarding, people
    )
