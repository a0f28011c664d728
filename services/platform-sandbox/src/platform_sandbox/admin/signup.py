"""WhatsApp Embedded Signup as Meta's JavaScript SDK runs it (platform-apis.md §3.1): the
business's page calls `FB.login` with a `config_id` and `response_type: 'code'`; a popup on
facebook.com walks the customer through, then the page receives a `message` event carrying the
session info (`WA_EMBEDDED_SIGNUP`, `FINISH`, the chosen `waba_id` and `phone_number_id`) and the
login callback receives a `code`.

The sandbox plays the popup: `GET /_sandbox/whatsapp/embedded_signup/popup?origin=` is a page
that posts both to its opener (the session info as Meta's JSON string, the code as
`{"type": "SANDBOX_LOGIN_RESPONSE", "authResponse": {"code"}}`, which stands in for the
`FB.login` callback), and `POST /_sandbox/whatsapp/embedded_signup` answers the same for tests.
The code was issued without a redirect URI: it exchanges without one (giving one answers 36008),
once, before `meta.code_ttl_s`; its token is granted the chosen WABA only.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from platform_sandbox.media.fetch import is_loopback_url
from platform_sandbox.oauth.codes import CodeFlow
from platform_sandbox.oauth.facebook import BUSINESS_SCOPES
from platform_sandbox.sandbox import Sandbox


class EmbeddedSignup(BaseModel):
    model_config = {"extra": "forbid"}

    user_id: str | None = None
    waba_id: str | None = None
    phone_number_id: str | None = Field(
        default=None, description="The number the customer picks (default: the WABA's first)."
    )
    scopes: list[str] | None = Field(
        default=None, description="What the customer grants (default: every business scope)."
    )


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/whatsapp/embedded_signup", tags=["sandbox: accounts"])

    @api.post("")
    async def embedded_signup(body: EmbeddedSignup) -> dict[str, Any]:
        """What the Embedded Signup popup hands the front end: a code and the session info."""
        return finish(sandbox, body)

    @api.get("/popup", response_class=HTMLResponse)
    async def popup(
        origin: str = Query(description="The opener's origin, where the messages go."),
        user_id: str | None = None,
    ) -> HTMLResponse:
        if not is_loopback_url(origin):
            raise HTTPException(400, "origin must be a loopback origin in the sandbox")
        return HTMLResponse(_page(sandbox, origin, user_id), headers={"Cache-Control": "no-store"})

    return api


def finish(sandbox: Sandbox, body: EmbeddedSignup) -> dict[str, Any]:
    accounts = sandbox.state.accounts
    user_id = body.user_id or (sandbox.demo.user_id if sandbox.demo else "")
    wabas = [w for w in accounts.wabas_of_user(user_id) if body.waba_id in (None, w.id)]
    if not wabas:
        raise HTTPException(404, "the user owns no such WhatsApp business account")
    waba = wabas[0]
    numbers = [
        n for n in accounts.phone_numbers_of(waba.id) if body.phone_number_id in (None, n.id)
    ]
    if body.phone_number_id is not None and not numbers:
        raise HTTPException(404, "the WhatsApp business account has no such phone number")
    code = sandbox.state.codes.issue(
        CodeFlow.FACEBOOK_BUSINESS,
        client_id=sandbox.settings.meta.app_id,
        redirect_uri=None,
        subject=user_id,
        scopes=frozenset(BUSINESS_SCOPES if body.scopes is None else body.scopes),
        expires_at=sandbox.clock.now() + sandbox.settings.meta.code_ttl_s,
        assets=frozenset({waba.id}),
    )
    session = {
        "waba_id": waba.id,
        "phone_number_id": numbers[0].id if numbers else None,
        "business_id": waba.business_id,
    }
    return {"code": code.code, "type": "WA_EMBEDDED_SIGNUP", "event": "FINISH", "data": session}


def _page(sandbox: Sandbox, origin: str, user_id: str | None) -> str:
    accounts = sandbox.state.accounts
    user = user_id or (sandbox.demo.user_id if sandbox.demo else "")
    options = "".join(
        f"<option value='{escape(json.dumps([w.id, n.id]))}'>"
        f"{escape(w.name)}: {escape(n.display_phone_number)} ({escape(n.verified_name)})</option>"
        for w in accounts.wabas_of_user(user)
        for n in accounts.phone_numbers_of(w.id)
    )
    config = escape(json.dumps({"origin": origin, "user_id": user}))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sandbox: WhatsApp Embedded Signup</title></head>
<body data-config="{config}">
<h1>Connect your WhatsApp Business account</h1>
<p>The sandbox plays Meta's Embedded Signup popup.</p>
<label>Business phone number <select id="pick">{options}</select></label>
<button id="finish">Finish</button> <button id="cancel">Cancel</button>
<p id="out"></p>
<script>
const cfg = JSON.parse(document.body.dataset.config);
const send = (message) => window.opener && window.opener.postMessage(message, cfg.origin);
document.getElementById("finish").onclick = async () => {{
  const [waba_id, phone_number_id] = JSON.parse(document.getElementById("pick").value);
  const answer = await fetch("/_sandbox/whatsapp/embedded_signup", {{
    method: "POST", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{user_id: cfg.user_id, waba_id, phone_number_id}}),
  }});
  const body = await answer.json();
  if (!answer.ok) {{ document.getElementById("out").textContent = JSON.stringify(body); return; }}
  send(JSON.stringify({{type: body.type, event: body.event, data: body.data, version: "4"}}));
  send({{type: "SANDBOX_LOGIN_RESPONSE", authResponse: {{code: body.code}}}});
  window.close();
}};
document.getElementById("cancel").onclick = () => {{
  send(JSON.stringify({{type: "WA_EMBEDDED_SIGNUP", event: "CANCEL",
    data: {{current_step: "PHONE_NUMBER_SETUP"}}, version: "4"}}));
  send({{type: "SANDBOX_LOGIN_RESPONSE", authResponse: null}});
  window.close();
}};
</script></body></html>"""
