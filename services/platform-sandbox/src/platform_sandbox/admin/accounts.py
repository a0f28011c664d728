"""Creating accounts and test situations: people, Pages, Instagram and WhatsApp accounts,
templates, TikTok creators and verified URL prefixes; an inbound WhatsApp message (opens the
24-hour window); an undeliverable recipient; a TikTok creator who disconnects the app
(`authorization.removed`). Embedded Signup's popup is `admin/signup.py`."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from platform_sandbox.media.fetch import is_loopback_url
from platform_sandbox.provisioning import PAGE_TASKS, Provisioner
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.whatsapp.statuses import envelope


class _Body(BaseModel):
    model_config = {"extra": "forbid"}


class NewUser(_Body):
    name: str = "Sandbox Person"


class NewPage(_Body):
    name: str
    owner_user_id: str
    tasks: list[str] = Field(default_factory=lambda: list(PAGE_TASKS))
    instagram_username: str | None = None


class NewIgAccount(_Body):
    username: str
    page_id: str | None = None


class NewWaba(_Body):
    name: str = "Sandbox WhatsApp"
    owner_user_id: str | None = None
    business_id: str | None = None


class NewPhoneNumber(_Body):
    waba_id: str
    display_phone_number: str
    verified_name: str = "Sandbox Business"
    throughput_mps: float | None = None
    registered: bool = Field(
        default=True, description="False: added in Embedded Signup, not yet registered."
    )
    pin: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="A two-step verification PIN set before (an earlier registration).",
    )


class ButtonShape(_Body):
    sub_type: Literal["quick_reply", "url", "copy_code", "flow", "catalog"]
    params: int = 0


class NewTemplate(_Body):
    waba_id: str
    name: str
    language: str = "en_US"
    category: Literal["UTILITY", "MARKETING", "AUTHENTICATION"] = "UTILITY"
    status: Literal["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"] = "APPROVED"
    header_format: Literal["TEXT", "IMAGE", "VIDEO", "DOCUMENT"] | None = None
    header_params: int = 0
    body_params: int = 0
    buttons: list[ButtonShape] = Field(default_factory=list)


class Inbound(_Body):
    phone_number_id: str
    wa_id: str = Field(alias="from")
    text: str = "Hello"
    name: str = "Sandbox Customer"


class Undeliverable(_Body):
    wa_id: str
    code: int = 131026


class NewCreator(_Body):
    username: str
    display_name: str = "Sandbox Creator"
    private_account: bool = False
    banned: bool = False


class Prefix(_Body):
    prefix: str


class Deauthorize(_Body):
    open_id: str
    reason: int = Field(default=1, ge=0, le=5)


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(prefix="/_sandbox", tags=["sandbox: accounts"])
    _listing(api, sandbox)
    _meta(api, sandbox)
    _whatsapp_accounts(api, sandbox)
    _whatsapp_situations(api, sandbox)
    _tiktok(api, sandbox)
    return api


def _listing(api: APIRouter, sandbox: Sandbox) -> None:
    @api.get("/accounts")
    async def accounts() -> dict[str, Any]:
        a = sandbox.state.accounts
        return {
            "demo": None if sandbox.demo is None else vars(sandbox.demo),
            "users": [vars(u) for u in a.users.values()],
            "pages": [vars(p) for p in a.pages.values()],
            "instagram_accounts": [vars(i) for i in a.ig_users.values()],
            "businesses": [vars(b) for b in a.businesses.values()],
            "wabas": [
                {
                    "id": w.id,
                    "name": w.name,
                    "business_id": w.business_id,
                    "subscribed_apps": sorted(w.subscribed_apps),
                }
                for w in a.wabas.values()
            ],
            "phone_numbers": [vars(n) for n in a.phone_numbers.values()],
            "templates": [
                vars(t) | {"buttons": [vars(b) for b in t.buttons]} for t in a.templates.values()
            ],
            "tiktok_creators": [vars(c) for c in a.tiktok_users.values()],
            "tiktok_verified_prefixes": sandbox.state.tiktok_verified_prefixes,
        }


def _meta(api: APIRouter, sandbox: Sandbox) -> None:
    def make() -> Provisioner:
        return Provisioner(sandbox.state)

    @api.post("/facebook/users", status_code=201)
    async def new_user(body: NewUser) -> dict[str, Any]:
        return vars(make().user(body.name))

    @api.post("/facebook/pages", status_code=201)
    async def new_page(body: NewPage) -> dict[str, Any]:
        if body.owner_user_id not in sandbox.state.accounts.users:
            raise HTTPException(404, "no such user")
        page = make().page(body.name, body.owner_user_id, body.tasks)
        ig = make().ig_user(body.instagram_username, page.id) if body.instagram_username else None
        return {
            "id": page.id,
            "name": page.name,
            "instagram_business_account": ig.id if ig else None,
        }

    @api.post("/instagram/accounts", status_code=201)
    async def new_ig(body: NewIgAccount) -> dict[str, Any]:
        if body.page_id is not None and body.page_id not in sandbox.state.accounts.pages:
            raise HTTPException(404, "no such page")
        return vars(make().ig_user(body.username, body.page_id))


def _whatsapp_accounts(api: APIRouter, sandbox: Sandbox) -> None:
    def make() -> Provisioner:
        return Provisioner(sandbox.state)

    @api.post("/whatsapp/wabas", status_code=201)
    async def new_waba(body: NewWaba) -> dict[str, Any]:
        business_id = (
            body.business_id or make().business(f"{body.name} business", body.owner_user_id).id
        )
        waba = make().waba(body.name, business_id)
        return {"id": waba.id, "name": waba.name, "business_id": business_id}

    @api.post("/whatsapp/phone_numbers", status_code=201)
    async def new_number(body: NewPhoneNumber) -> dict[str, Any]:
        if body.waba_id not in sandbox.state.accounts.wabas:
            raise HTTPException(404, "no such WABA")
        number = make().phone_number(
            body.waba_id,
            body.display_phone_number,
            body.verified_name,
            body.throughput_mps,
            registered=body.registered,
            pin=body.pin,
        )
        return vars(number)

    @api.post("/whatsapp/templates", status_code=201)
    async def new_template(body: NewTemplate) -> dict[str, Any]:
        if body.waba_id not in sandbox.state.accounts.wabas:
            raise HTTPException(404, "no such WABA")
        shape = body.model_dump(exclude={"waba_id", "name", "language"})
        template = make().template(body.waba_id, body.name, body.language, **shape)
        return vars(template) | {"buttons": [vars(b) for b in template.buttons]}


def _whatsapp_situations(api: APIRouter, sandbox: Sandbox) -> None:
    @api.post("/whatsapp/inbound")
    async def inbound(body: Inbound) -> dict[str, Any]:
        number = sandbox.state.accounts.phone_numbers.get(body.phone_number_id)
        if number is None:
            raise HTTPException(404, "no such phone number")
        now = sandbox.clock.now()
        sandbox.state.whatsapp.last_inbound[(number.id, body.wa_id)] = now
        wamid = sandbox.state.ids.wamid(body.wa_id)
        value = {
            "contacts": [{"profile": {"name": body.name}, "wa_id": body.wa_id}],
            "messages": [
                {
                    "from": body.wa_id,
                    "id": wamid,
                    "timestamp": str(int(now)),
                    "type": "text",
                    "text": {"body": body.text},
                }
            ],
        }
        sandbox.webhooks.enqueue(
            "whatsapp", envelope(number, value), due_at=now, summary=f"inbound {wamid}"
        )
        return {
            "wamid": wamid,
            "window_open_until": now + sandbox.settings.whatsapp.service_window_s,
        }

    @api.post("/whatsapp/recipients")
    async def undeliverable(body: Undeliverable) -> dict[str, Any]:
        sandbox.state.whatsapp.undeliverable[body.wa_id] = body.code
        return {"wa_id": body.wa_id, "code": body.code}


def _tiktok(api: APIRouter, sandbox: Sandbox) -> None:
    @api.post("/tiktok/users", status_code=201)
    async def new_creator(body: NewCreator) -> dict[str, Any]:
        creator = Provisioner(sandbox.state).tiktok_user(
            body.username,
            body.display_name,
            private_account=body.private_account,
            banned=body.banned,
        )
        return vars(creator)

    @api.post("/tiktok/verified_prefixes", status_code=201)
    async def verify_prefix(body: Prefix) -> dict[str, Any]:
        if not is_loopback_url(body.prefix):
            raise HTTPException(400, "the sandbox pulls only from loopback URLs")
        sandbox.state.tiktok_verified_prefixes.append(body.prefix)
        return {"verified_url_prefixes": sandbox.state.tiktok_verified_prefixes}

    @api.post("/tiktok/deauthorize")
    async def deauthorize(body: Deauthorize) -> dict[str, Any]:
        revoked = sandbox.state.tokens.revoke_subject(body.open_id)
        now = sandbox.clock.now()
        payload = {
            "client_key": sandbox.settings.tiktok.client_key,
            "event": "authorization.removed",
            "create_time": int(now),
            "user_openid": body.open_id,
            "content": json.dumps({"reason": body.reason}),
        }
        sandbox.webhooks.enqueue(
            "tiktok", payload, due_at=now, summary=f"authorization.removed {body.open_id}"
        )
        return {"revoked_tokens": revoked}
