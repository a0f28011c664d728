"""The `make up` demo: a business, an API key, its owner for the console (an email and a
password), the four sandbox accounts connected through the real OAuth flows, and one post
published to Facebook and Instagram, end to end.

Everything goes through the public APIs a person would use: auth-service's admin API (with the
stack's admin token) for the business, its key and its owner (ADR 0024), the owner's session
for the business's time zone (Europe/Berlin, `PATCH /v1/business`),
`GET /v1/oauth/<provider>/connect`, its start link (which binds the connection to this
client's cookie jar, as to a browser) and the platform's authorize page (asked to approve at
once) for the accounts, the scheduler's
`POST /v1/posts` for the post. The business, key and owner are kept in `.run/demo.json`
(readable by its owner only: it holds the raw key and password), so running it again reuses
them.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from herald.topics import Platform
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError
from herald_localstack.secrets import StackSecrets
from herald_localstack.services import url

PROVIDERS = tuple(platform.value for platform in Platform)
TERMINAL = {"published", "partially_published", "failed", "cancelled"}


@dataclass
class Demo:
    business_id: str
    api_key: str
    integrations: dict[str, str] = field(default_factory=dict)  # platform -> integration id
    owner_email: str = ""  # the console's demo user, an owner of the business
    owner_password: str = ""


def run(cfg: StackConfig, say: Callable[[str], None], *, timeout_s: float = 120.0) -> Demo:
    keys = StackSecrets.load_or_create(cfg.run_dir)
    auth, scheduler = url(cfg, "auth-service"), url(cfg, "scheduler")
    with httpx.Client(timeout=30.0) as http:
        demo = ensure_business(http, cfg.run_dir / "demo.json", auth, keys.admin_token, say)
        ensure_owner(http, auth, keys.admin_token, demo, say)
        ensure_zone(http, auth, demo, say)
        # The sandbox keeps its accounts in memory, so every start connects them again (the same
        # account reconnected keeps its integration id).
        for provider in PROVIDERS:
            demo.integrations[provider] = connect(http, auth, demo.api_key, provider)
            say(f"connected {provider}: integration {demo.integrations[provider]}")
        save(cfg.run_dir / "demo.json", demo)
        post = _post(http, scheduler, demo, url(cfg, "platform-sandbox"))
        say(f"scheduled post {post} to Facebook and Instagram; waiting for it to publish ...")
        final = _wait(http, scheduler, demo.api_key, post, timeout_s)
    for target in final["targets"]:
        state = target["state"]
        where = target.get("permalink") or target.get("platform_post_id") or ""
        say(f"  {target['platform']:<10} {state:<10} {where}")
    if final["status"] != "published":
        msg = f"the demo post ended {final['status']}: {json.dumps(final['targets'])[:600]}"
        raise StackError(msg)
    _explain(say, scheduler, demo)
    say(f"  the console: {url(cfg, 'console')}")
    say(f"    sign in as {demo.owner_email} with the password {demo.owner_password}")
    return demo


def save(path: Path, demo: Demo) -> None:
    """Keep the demo for the next run: it holds a raw API key, so the owner alone may read it
    (created so, never world-readable for an instant, and an older file tightened)."""
    partial = path.with_name(f".{path.name}.tmp")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(demo.__dict__, indent=2))
    partial.replace(path)


def ensure_business(
    http: httpx.Client, path: Path, auth: str, admin: str, say: Callable[[str], None]
) -> Demo:
    if path.exists():
        saved = Demo(**json.loads(path.read_text()))
        check = http.get(f"{auth}/v1/integrations", headers=_bearer(saved.api_key))
        if check.status_code == 200:
            return saved
    admin_headers = _bearer(admin)
    business = _ok(
        http.post(
            f"{auth}/v1/admin/businesses",
            json={"name": "Herald Demo Bakery"},
            headers=admin_headers,
        )
    )
    key = _ok(
        http.post(
            f"{auth}/v1/admin/businesses/{business['business_id']}/api-keys",
            json={"name": "demo"},
            headers=admin_headers,
        )
    )
    say(f"created business {business['business_id']} and an API key")
    return Demo(business_id=business["business_id"], api_key=key["key"])


DEMO_EMAIL = "owner@demo-bakery.example"


def ensure_owner(
    http: httpx.Client, auth: str, admin: str, demo: Demo, say: Callable[[str], None]
) -> None:
    """The business's demo owner: the saved one if its password still signs in, else a new
    person (a new address when the usual one is taken by a person whose password is lost)."""
    if demo.owner_email and demo.owner_password:
        body = {"email": demo.owner_email, "password": demo.owner_password}
        signed = http.post(f"{auth}/v1/sessions", json=body)
        if signed.status_code == 201:
            http.delete(f"{auth}/v1/session", headers=_bearer(signed.json()["token"]))
            return
    password = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
    for email in (DEMO_EMAIL, f"owner+{secrets.token_hex(4)}@demo-bakery.example"):
        made = http.post(
            f"{auth}/v1/admin/businesses/{demo.business_id}/users",
            json={"email": email, "name": "Demo Owner", "password": password, "role": "owner"},
            headers=_bearer(admin),
        )
        if made.status_code != 409:
            _ok(made)
            demo.owner_email, demo.owner_password = email, password
            say(f"created the console user {email} (owner)")
            return
    msg = "could not create the demo owner: both addresses are taken"
    raise StackError(msg)


DEMO_ZONE = "Europe/Berlin"


def ensure_zone(http: httpx.Client, auth: str, demo: Demo, say: Callable[[str], None]) -> None:
    """The business's time zone, set by its owner as a person would (`PATCH /v1/business`) when
    it has none, so the console shows the demo's times in a zone of its own."""
    body = {"email": demo.owner_email, "password": demo.owner_password}
    token = _ok(http.post(f"{auth}/v1/sessions", json=body))["token"]
    try:
        if _ok(http.get(f"{auth}/v1/business", headers=_bearer(token)))["timezone"] is None:
            change = {"timezone": DEMO_ZONE}
            _ok(http.patch(f"{auth}/v1/business", json=change, headers=_bearer(token)))
            say(f"set the business's time zone to {DEMO_ZONE}")
    finally:
        http.delete(f"{auth}/v1/session", headers=_bearer(token))


def connect(http: httpx.Client, auth: str, api_key: str, provider: str) -> str:
    """The OAuth flow a browser would follow: connect, the platform's page, the callback."""
    return connect_all(http, auth, api_key, provider)[0]


def connect_all(
    http: httpx.Client, auth: str, api_key: str, provider: str, **sandbox: str
) -> list[str]:
    """`connect`, returning every integration the flow made (one per Page, for Facebook).
    `http` plays the person's browser: it keeps the cookie the start link sets, which the
    callback requires. `sandbox` adds parameters for the sandbox's page (`sandbox_user`)."""
    start = _ok(http.get(f"{auth}/v1/oauth/{provider}/connect", headers=_bearer(api_key)))
    link = http.get(start["authorize_url"], follow_redirects=False)
    if link.status_code != 302:
        msg = f"{provider}: the start link answered {link.status_code}: {link.text[:200]}"
        raise StackError(msg)
    params = {"sandbox_auto_approve": "1", **sandbox}
    authorize = httpx.URL(link.headers["location"]).copy_merge_params(params)
    page = http.get(authorize, follow_redirects=False)
    if page.status_code != 302:
        msg = f"{provider}: the authorize page answered {page.status_code}: {page.text[:200]}"
        raise StackError(msg)
    done = _ok(http.get(page.headers["location"], headers={"Accept": "application/json"}))
    return [str(i["integration_id"]) for i in done["integrations"]]


def _post(http: httpx.Client, scheduler: str, demo: Demo, sandbox: str) -> str:
    image = f"{sandbox}/_sandbox/media/demo-loaf.jpg?bytes=250000&width=1080&height=1080"
    body = {
        "content": {
            "text": "Fresh sourdough out of the oven at 7am. #HeraldDemo",
            "media": [{"kind": "image", "url": image, "mime_type": "image/jpeg"}],
        },
        "targets": [
            {"integration_id": demo.integrations["facebook"], "platform": "facebook"},
            {"integration_id": demo.integrations["instagram"], "platform": "instagram"},
        ],
    }
    headers = {**_bearer(demo.api_key), "Idempotency-Key": f"demo-{uuid.uuid4().hex}"}
    return str(_ok(http.post(f"{scheduler}/v1/posts", json=body, headers=headers))["post_id"])


def _wait(
    http: httpx.Client, scheduler: str, api_key: str, post_id: str, timeout_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        post: dict[str, Any] = _ok(
            http.get(f"{scheduler}/v1/posts/{post_id}", headers=_bearer(api_key))
        )
        if post["status"] in TERMINAL or time.monotonic() > deadline:
            return post
        time.sleep(0.5)


def _explain(say: Callable[[str], None], scheduler: str, demo: Demo) -> None:
    say("demo ready. Try it yourself:")
    say(f"  export HERALD_KEY={demo.api_key}")
    say(
        f'  curl -s -X POST {scheduler}/v1/posts -H "Authorization: Bearer $HERALD_KEY" '
        "-H 'Idempotency-Key: my-first-post' -H 'Content-Type: application/json' "
        f'-d \'{{"content": {{"text": "Hello from Herald"}}, "targets": '
        f'[{{"integration_id": "{demo.integrations["facebook"]}", "platform": "facebook"}}]}}\''
    )
    say(f'  curl -s {scheduler}/v1/posts/<post_id> -H "Authorization: Bearer $HERALD_KEY"')


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        request = response.request
        answer = f"{response.status_code}: {response.text[:300]}"
        msg = f"{request.method} {request.url.path} answered {answer}"
        raise StackError(msg)
    return response.json()
