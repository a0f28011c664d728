"""Creating accounts: what the admin API calls, and the demo world a fresh sandbox starts with.

The demo world is one person (Ana) who manages one Page with a linked Instagram professional
account, owns a business with a WhatsApp business account and number and two approved templates,
and one TikTok creator: enough for the local demo and for tests that need "an account".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from platform_sandbox.accounts import (
    Business,
    IgUser,
    MetaUser,
    NodeKind,
    Page,
    PhoneNumber,
    Template,
    TemplateButton,
    TikTokUser,
    Waba,
)
from platform_sandbox.state import SandboxState

PAGE_TASKS = ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE", "MESSAGING"]


class Provisioner:
    def __init__(self, state: SandboxState) -> None:
        self._state = state

    def user(self, name: str) -> MetaUser:
        user = MetaUser(self._state.ids.graph("user"), name)
        self._state.accounts.users[user.id] = user
        self._state.accounts.nodes.add(NodeKind.USER, user.id)
        return user

    def page(self, name: str, owner_user_id: str, tasks: list[str] | None = None) -> Page:
        page = Page(
            self._state.ids.graph("page"), name, "Brand", {owner_user_id: tasks or PAGE_TASKS}
        )
        self._state.accounts.pages[page.id] = page
        self._state.accounts.nodes.add(NodeKind.PAGE, page.id)
        return page

    def ig_user(self, username: str, page_id: str | None = None) -> IgUser:
        ig = IgUser(self._state.ids.graph("ig_user"), username, username.title(), page_id)
        self._state.accounts.ig_users[ig.id] = ig
        self._state.accounts.nodes.add(NodeKind.IG_USER, ig.id)
        if page_id is not None:
            self._state.accounts.pages[page_id].ig_user_id = ig.id
        return ig

    def business(self, name: str, owner_user_id: str | None) -> Business:
        business = Business(self._state.ids.graph("business"), name, owner_user_id)
        self._state.accounts.businesses[business.id] = business
        self._state.accounts.nodes.add(NodeKind.BUSINESS, business.id)
        return business

    def waba(self, name: str, business_id: str) -> Waba:
        waba = Waba(self._state.ids.graph("waba"), name, business_id)
        self._state.accounts.wabas[waba.id] = waba
        self._state.accounts.nodes.add(NodeKind.WABA, waba.id)
        return waba

    def phone_number(
        self,
        waba_id: str,
        display_phone_number: str,
        verified_name: str,
        throughput_mps: float | None = None,
        *,
        registered: bool = True,
        pin: str | None = None,
    ) -> PhoneNumber:
        number = PhoneNumber(
            self._state.ids.graph("phone_number"),
            waba_id,
            display_phone_number,
            verified_name,
            registered=registered,
            throughput_mps=throughput_mps,
            pin=pin,
        )
        self._state.accounts.phone_numbers[number.id] = number
        self._state.accounts.nodes.add(NodeKind.PHONE_NUMBER, number.id)
        return number

    def template(self, waba_id: str, name: str, language: str, **shape: Any) -> Template:
        buttons = [TemplateButton(**b) for b in shape.pop("buttons", [])]
        template = Template(
            self._state.ids.graph("template"), waba_id, name, language, buttons=buttons, **shape
        )
        self._state.accounts.templates[template.id] = template
        return template

    def tiktok_user(self, username: str, display_name: str, **traits: Any) -> TikTokUser:
        ids = self._state.ids
        user = TikTokUser(ids.open_id(), ids.open_id(), username, display_name, **traits)
        self._state.accounts.tiktok_users[user.open_id] = user
        return user


@dataclass(frozen=True)
class DemoWorld:
    user_id: str
    page_id: str
    ig_user_id: str
    business_id: str
    waba_id: str
    phone_number_id: str
    tiktok_open_id: str


def seed_demo(state: SandboxState) -> DemoWorld:
    make = Provisioner(state)
    user = make.user("Ana Demo")
    page = make.page("Herald Demo Bakery", user.id)
    ig = make.ig_user("herald.demo.bakery", page.id)
    business = make.business("Herald Demo Business", user.id)
    waba = make.waba("Herald Demo WhatsApp", business.id)
    number = make.phone_number(waba.id, "+1 555-010-0001", "Herald Demo Bakery")
    make.template(waba.id, "hello_world", "en_US")
    make.template(
        waba.id,
        "order_update",
        "en_US",
        header_format="IMAGE",
        body_params=2,
        buttons=[{"sub_type": "url", "params": 1}],
    )
    creator = make.tiktok_user("herald.demo", "Herald Demo")
    return DemoWorld(user.id, page.id, ig.id, business.id, waba.id, number.id, creator.open_id)
