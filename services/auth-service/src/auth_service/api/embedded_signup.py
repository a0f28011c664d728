"""`POST /v1/integrations/whatsapp/embedded-signup`: WhatsApp Embedded Signup as Meta's
JavaScript SDK delivers it (ADR 0018). The business's page sends the code `FB.login` returned
and the ids of the `WA_EMBEDDED_SIGNUP` event, with its API key; the answer is the connected
integration, or a refusal with a code and a remediation.

`GET /dev/embedded-signup` (local development runs against the sandbox only) is a page that
plays the business's front end: it opens the sandbox's Embedded Signup popup, listens for its
messages as a page listens for Meta's, and posts the result here.
"""

from __future__ import annotations

import json
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from auth_service.api.common import DepsDep, error_responses, require_key
from auth_service.api.schemas import CallbackResponse, no_nul_text
from auth_service.api.strict import StrictRoute
from auth_service.api.views import health
from auth_service.domain import ApiKeyRecord
from auth_service.errors import AuthServiceError
from auth_service.handlers.embedded_signup import SignupInput, connect_embedded_signup
from auth_service.ports import WhatsAppOnboarding
from herald.topics import Platform

router = APIRouter(prefix="/v1/integrations", tags=["integrations"], route_class=StrictRoute)
dev_router = APIRouter(include_in_schema=False)
Writer = Annotated[ApiKeyRecord, Depends(require_key("integrations:write"))]
GRAPH_ID = r"^[0-9]{1,32}$"


class EmbeddedSignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=no_nul_text)

    code: str = Field(
        min_length=1, max_length=2048, description="`authResponse.code` from `FB.login`."
    )
    waba_id: str = Field(pattern=GRAPH_ID, description="From the `WA_EMBEDDED_SIGNUP` event.")
    phone_number_id: str = Field(
        pattern=GRAPH_ID, description="From the `WA_EMBEDDED_SIGNUP` event."
    )
    business_id: str | None = Field(
        default=None, pattern=GRAPH_ID, description="From the event; kept for the view."
    )
    pin: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="The number's two-step verification PIN: the one it has, or the one to set. "
        "Omitted: Herald generates one for a number not yet registered (stored encrypted).",
    )


def onboarding_of(request: Request) -> WhatsAppOnboarding:
    onboarding: WhatsAppOnboarding | None = request.app.state.onboarding
    if onboarding is None:
        msg = "this auth-service was built without WhatsApp onboarding"
        raise AuthServiceError(msg, code="unavailable")
    return onboarding


@router.post(
    "/whatsapp/embedded-signup",
    response_model=CallbackResponse,
    responses=error_responses(401, 403, 503),
    summary="Connect a WhatsApp number from Embedded Signup (JavaScript SDK)",
)
async def embedded_signup(
    body: EmbeddedSignupRequest,
    deps: DepsDep,
    key: Writer,
    onboarding: Annotated[WhatsAppOnboarding, Depends(onboarding_of)],
) -> CallbackResponse:
    """Redeems the code (once), checks with `debug_token` that it grants both WhatsApp
    permissions on the WABA and that the number is the WABA's, subscribes the app to the WABA's
    webhooks, registers the number unless it is registered, and stores the integration
    (`integration.connected`). Refusals (400): `code_used`, `code_expired`, `code_rejected`,
    `missing_permission`, `assets_not_granted` (`not_granted` lists the ids), `pin_mismatch`,
    `number_registered_elsewhere`, `registration_failed`, `onboarding_failed`; each carries a
    `remediation`."""
    given = SignupInput(body.code, body.waba_id, body.phone_number_id, body.pin, body.business_id)
    integration = await connect_embedded_signup(deps, onboarding, key.business_id, given)
    return CallbackResponse(
        status="connected",
        provider=Platform.WHATSAPP,
        integrations=[health(integration, deps.clock.now(), deps.policy.margins)],
    )


@dev_router.get("/dev/embedded-signup", response_class=HTMLResponse)
async def dev_page(request: Request) -> HTMLResponse:
    sandbox: str = request.app.state.dev_sandbox_url
    config = escape(json.dumps({"sandbox": sandbox.rstrip("/")}))
    return HTMLResponse(_PAGE.replace("{config}", config), headers={"Cache-Control": "no-store"})


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Herald: WhatsApp Embedded Signup (local)</title></head>
<body data-config="{config}">
<h1>Connect WhatsApp (local development)</h1>
<p>This page plays a business's front end: the sandbox's popup stands in for Meta's
<code>FB.login</code> with the Embedded Signup <code>config_id</code>.</p>
<label>API key <input id="key" size="60" autocomplete="off"></label><br>
<label>Two-step PIN (optional) <input id="pin" size="8" inputmode="numeric"></label><br>
<button id="go">Connect WhatsApp</button>
<pre id="out"></pre>
<script>
const cfg = JSON.parse(document.body.dataset.config);
const sandboxOrigin = new URL(cfg.sandbox).origin;
const out = document.getElementById("out");
let session = null, code = null;
window.addEventListener("message", async (event) => {
  if (event.origin !== sandboxOrigin) return;
  let data = event.data;
  if (typeof data === "string") { try { data = JSON.parse(data); } catch { return; } }
  if (data.type === "WA_EMBEDDED_SIGNUP") {
    if (data.event !== "FINISH") { out.textContent = "Signup ended: " + data.event; return; }
    session = data.data;
  } else if (data.type === "SANDBOX_LOGIN_RESPONSE") {
    code = data.authResponse && data.authResponse.code;
  }
  if (session && code) await finish();
});
async function finish() {
  const body = {code, waba_id: session.waba_id, phone_number_id: session.phone_number_id,
                business_id: session.business_id};
  const pin = document.getElementById("pin").value.trim();
  if (pin) body.pin = pin;
  session = null; code = null;
  const answer = await fetch("/v1/integrations/whatsapp/embedded-signup", {
    method: "POST",
    headers: {"Content-Type": "application/json",
              "Authorization": "Bearer " + document.getElementById("key").value.trim()},
    body: JSON.stringify(body),
  });
  out.textContent = answer.status + "\\n" + JSON.stringify(await answer.json(), null, 2);
}
document.getElementById("go").onclick = () => {
  const popup = cfg.sandbox + "/_sandbox/whatsapp/embedded_signup/popup?origin=" +
    encodeURIComponent(window.location.origin);
  window.open(popup, "embedded_signup", "width=600,height=700");
};
</script></body></html>"""
