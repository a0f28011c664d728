"""The consent step every authorize page shares: a plain page with Approve and Cancel, or an
immediate approval when the sandbox is told to (setting `oauth.auto_approve`, or the query
parameter `sandbox_auto_approve=1` on the authorize URL, for tests and the demo).

Each platform decides what approval and cancellation redirect to; this module draws the page,
reads the decision and builds redirects.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from platform_sandbox.settings import OAuthSettings

SANDBOX_PARAMS = ("sandbox_auto_approve", "sandbox_user", "sandbox_decision")


@dataclass(frozen=True)
class Consent:
    platform: str
    app_name: str
    account_label: str
    scopes: list[str]


async def form_fields(request: Request) -> dict[str, str]:
    """The text fields of a form body (closing the form releases any uploaded files)."""
    async with request.form() as form:
        return {k: v for k, v in form.items() if isinstance(v, str)}


async def authorize_params(request: Request) -> dict[str, str]:
    """The authorize request's parameters: the query on GET, the submitted form on POST."""
    if request.method == "POST":
        return await form_fields(request)
    return dict(request.query_params)


def decision(params: dict[str, str], settings: OAuthSettings) -> str | None:
    """approve, cancel, or None when a person still has to choose."""
    chosen = params.get("sandbox_decision")
    if chosen in ("approve", "cancel"):
        return chosen
    if settings.auto_approve or params.get("sandbox_auto_approve") in ("1", "true"):
        return "approve"
    return None


def consent_page(consent: Consent, action: str, params: dict[str, str]) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in params.items()
        if k not in SANDBOX_PARAMS
    )
    scopes = "".join(f"<li>{escape(s)}</li>" for s in consent.scopes) or "<li>basic profile</li>"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(consent.platform)} sandbox</title></head>
<body>
<h1>{escape(consent.app_name)} wants to connect to your {escape(consent.platform)} account</h1>
<p>Signed in as <strong>{escape(consent.account_label)}</strong> (platform sandbox).</p>
<p>It asks for:</p><ul>{scopes}</ul>
<form method="post" action="{escape(action)}">{hidden}
<button type="submit" name="sandbox_decision" value="approve">Approve</button>
<button type="submit" name="sandbox_decision" value="cancel">Cancel</button>
</form></body></html>"""
    return HTMLResponse(page)


def error_page(platform: str, message: str, status: int = 400) -> HTMLResponse:
    body = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(platform)}"
        f"</title></head><body><h1>Sorry, something went wrong.</h1><p>{escape(message)}</p>"
        "</body></html>"
    )
    return HTMLResponse(body, status_code=status)


def redirect(uri: str, params: dict[str, str], fragment: str = "") -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    target = f"{uri}{separator}{urlencode(params)}"
    return RedirectResponse(target + (f"#{fragment}" if fragment else ""), status_code=302)


def valid_redirect(uri: str | None, registered: list[str]) -> bool:
    if not uri:
        return False
    if registered:
        return uri in registered
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def scope_list(raw: str | None) -> list[str]:
    return [s.strip() for s in (raw or "").replace(" ", ",").split(",") if s.strip()]
