"""`/v1/webhooks`: a business's endpoints, their secrets, deliveries, redelivery and ping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request

from herald.events import Violation
from herald.inputs import ID_PATTERN
from herald.notices import WebhookPing
from scheduler.api.common import Reader, Writer, error_responses
from scheduler.errors import Conflict, NotFound, Rejected
from scheduler.webhooks.addresses import check_endpoint_url
from scheduler.webhooks.models import (
    Attempt,
    Delivery,
    DeliveryState,
    Endpoint,
    Secret,
    new_id,
    new_secret,
)
from scheduler.webhooks.notify import notice_id
from scheduler.webhooks.schemas import (
    AttemptView,
    DeliveryList,
    DeliveryView,
    EndpointCreate,
    EndpointCreated,
    EndpointList,
    EndpointUpdate,
    EndpointView,
    Rotate,
    SecretInfo,
)

if TYPE_CHECKING:  # the composition root imports this module
    from scheduler.webhooks.wiring import Webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Id = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


def _hooks(request: Request) -> Webhooks:
    hooks: Webhooks = request.app.state.webhooks
    return hooks


def _url(raw: str, hooks: Webhooks) -> str:
    try:
        return check_endpoint_url(raw, hooks.settings)
    except ValueError as exc:
        raise Rejected([Violation(path="url", message=str(exc), code="not_allowed")]) from None


def _view(e: Endpoint) -> EndpointView:
    now = e.updated_at
    return EndpointView(
        id=e.id,
        url=e.url,
        event_types=list(e.event_types),
        description=e.description,
        enabled=e.enabled,
        created_at=e.created_at,
        updated_at=e.updated_at,
        failing_since=e.failing_since,
        disabled_at=e.disabled_at,
        disabled_reason=e.disabled_reason,
        secrets=[
            SecretInfo(created_at=s.created_at, expires_at=s.expires_at)
            for s in e.secrets
            if s.expires_at is None or s.expires_at > now
        ],
    )


async def _owned(hooks: Webhooks, business_id: str, endpoint_id: str) -> Endpoint:
    endpoint = await hooks.store.endpoint(endpoint_id)
    if endpoint is None or endpoint.business_id != business_id:
        msg = f"no webhook endpoint {endpoint_id} in this business"
        raise NotFound(msg)
    return endpoint


@router.post(
    "/endpoints",
    status_code=201,
    response_model=EndpointCreated,
    responses=error_responses(401, 403, 409, 422, 503),
)
async def create_endpoint(body: EndpointCreate, request: Request, key: Writer) -> EndpointCreated:
    """Register an endpoint; the answer shows its signing secret, once."""
    hooks = _hooks(request)
    url = _url(body.url, hooks)
    if len(await hooks.store.endpoints_of(key.business_id)) >= hooks.settings.max_endpoints:
        msg = f"a business has at most {hooks.settings.max_endpoints} webhook endpoints"
        raise Conflict(msg)
    now = hooks.clock()
    secret = new_secret()
    endpoint = Endpoint(
        id=new_id("we"),
        business_id=key.business_id,
        url=url,
        event_types=tuple(body.event_types),
        description=body.description,
        enabled=body.enabled,
        secrets=(Secret(secret, now),),
        created_at=now,
        updated_at=now,
    )
    await hooks.store.add_endpoint(endpoint)
    return EndpointCreated(**_view(endpoint).model_dump(), secret=secret)


@router.get("/endpoints", response_model=EndpointList, responses=error_responses(401, 403, 503))
async def list_endpoints(request: Request, key: Reader) -> EndpointList:
    """Every endpoint of the business, with whether it is enabled and why Herald disabled it."""
    found = await _hooks(request).store.endpoints_of(key.business_id)
    return EndpointList(items=[_view(e) for e in found])


@router.get(
    "/endpoints/{endpoint_id}",
    response_model=EndpointView,
    responses=error_responses(401, 403, 404, 503),
)
async def get_endpoint(endpoint_id: Id, request: Request, key: Reader) -> EndpointView:
    return _view(await _owned(_hooks(request), key.business_id, endpoint_id))


@router.patch(
    "/endpoints/{endpoint_id}",
    response_model=EndpointView,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def update_endpoint(
    endpoint_id: Id, body: EndpointUpdate, request: Request, key: Writer
) -> EndpointView:
    """Change the URL, types, description; enable or disable it."""
    hooks = _hooks(request)
    endpoint = await _owned(hooks, key.business_id, endpoint_id)
    now = hooks.clock()
    changed = replace(endpoint, updated_at=now)
    if body.url is not None:
        changed = replace(changed, url=_url(body.url, hooks))
    if body.event_types is not None:
        changed = replace(changed, event_types=tuple(body.event_types))
    if "description" in body.model_fields_set:
        changed = replace(changed, description=body.description)
    if body.enabled is True and not endpoint.enabled:
        changed = replace(
            changed, enabled=True, failing_since=None, disabled_at=None, disabled_reason=None
        )
    elif body.enabled is False:
        changed = replace(changed, enabled=False, disabled_at=now, disabled_reason=None)
    await hooks.store.save_endpoint(changed)
    return _view(changed)


@router.delete(
    "/endpoints/{endpoint_id}", status_code=204, responses=error_responses(401, 403, 404, 503)
)
async def delete_endpoint(endpoint_id: Id, request: Request, key: Writer) -> None:
    hooks = _hooks(request)
    await _owned(hooks, key.business_id, endpoint_id)
    await hooks.store.delete_endpoint(endpoint_id)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response_model=EndpointCreated,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def rotate_secret(
    endpoint_id: Id, request: Request, key: Writer, body: Rotate | None = None
) -> EndpointCreated:
    """A new secret (shown once); the current ones keep signing for `overlap_s` beside it."""
    hooks = _hooks(request)
    overlap = (body or Rotate()).overlap_s
    if overlap > hooks.settings.max_overlap_s:
        message = f"at most {hooks.settings.max_overlap_s} s"
        raise Rejected([Violation(path="overlap_s", message=message, code="too_large")])
    endpoint = await _owned(hooks, key.business_id, endpoint_id)
    now = hooks.clock()
    ends = now + timedelta(seconds=overlap)
    kept = tuple(
        replace(s, expires_at=min(s.expires_at or ends, ends))
        for s in endpoint.secrets
        if s.valid_at(now)
    )
    secret = new_secret()
    rotated = replace(endpoint, secrets=(Secret(secret, now), *kept), updated_at=now)
    await hooks.store.save_endpoint(rotated)
    return EndpointCreated(**_view(rotated).model_dump(), secret=secret)


@router.post(
    "/endpoints/{endpoint_id}/ping",
    status_code=202,
    response_model=DeliveryView,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def ping(endpoint_id: Id, request: Request, key: Writer) -> DeliveryView:
    """Send a `ping` to the endpoint now; follow it in its deliveries."""
    hooks = _hooks(request)
    endpoint = await _owned(hooks, key.business_id, endpoint_id)
    if not endpoint.enabled:
        msg = "the endpoint is disabled; enable it first"
        raise Conflict(msg)
    now = hooks.clock()
    message_id = notice_id(endpoint.id, "ping", now.isoformat())
    event = WebhookPing(business_id=key.business_id, occurred_at=now, endpoint_id=endpoint.id)
    await hooks.notifier.publish(event, message_id, only=endpoint)
    delivery = await hooks.store.delivery(f"{endpoint.id}.{message_id}")
    assert delivery is not None
    return _delivery_view(delivery, [])


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response_model=DeliveryList,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def list_deliveries(
    endpoint_id: Id,
    request: Request,
    key: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryList:
    """The endpoint's deliveries, newest first, each with every attempt and its answer."""
    hooks = _hooks(request)
    await _owned(hooks, key.business_id, endpoint_id)
    deliveries = await hooks.store.deliveries_of(endpoint_id, limit)
    attempts = await hooks.store.attempts_of([d.id for d in deliveries])
    return DeliveryList(items=[_delivery_view(d, attempts[d.id]) for d in deliveries])


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryView,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def redeliver(delivery_id: Id, request: Request, key: Writer) -> DeliveryView:
    """Send a delivery again now (the same `webhook-id`, freshly signed)."""
    hooks = _hooks(request)
    delivery = await hooks.store.delivery(delivery_id)
    if delivery is None or delivery.business_id != key.business_id:
        msg = f"no webhook delivery {delivery_id} in this business"
        raise NotFound(msg)
    endpoint = await _owned(hooks, key.business_id, delivery.endpoint_id)
    if not endpoint.enabled:
        msg = "the endpoint is disabled; enable it first"
        raise Conflict(msg)
    now = hooks.clock()
    again = replace(
        delivery, state=DeliveryState.PENDING, next_attempt_at=now, first_attempt_at=now
    )
    await hooks.store.save_delivery(again)
    await hooks.store.enqueue(again.id, again.endpoint_id, now)
    hooks.notifier.wake()
    return _delivery_view(again, [])


def _delivery_view(d: Delivery, attempts: Sequence[Attempt]) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        message_id=d.message_id,
        endpoint_id=d.endpoint_id,
        type=d.webhook_type,
        state=d.state.value,
        attempts=d.attempts,
        created_at=d.created_at,
        next_attempt_at=d.next_attempt_at,
        last_status=d.last_status,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        payload=d.payload,
        attempt_log=[AttemptView.model_validate(vars(a)) for a in attempts],
    )
