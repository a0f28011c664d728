"""The compose `demo` profile's one-shot: what `make demo` does for the local stack.

A business and an API key (auth-service's admin API), the sandbox's Facebook Page, Instagram
account, WhatsApp number and TikTok creator connected through the real OAuth flows, and one post
to Facebook and Instagram, followed until it is published. Runs in the platform-sandbox image
(Python and httpx, nothing of Herald's), configured by HERALD_DEMO_* variables; the admin token
comes from the generated secrets/demo.env. The steps are herald_localstack.demo's, which
`make up` runs and the e2e tier exercises; this copy exists because that package is not in any
image.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from typing import Any

import httpx

PROVIDERS = ("facebook", "instagram", "whatsapp", "tiktok")
TERMINAL = {"published", "partially_published", "failed", "cancelled"}


def say(line: str) -> None:
    print(f"demo: {line}", flush=True)  # noqa: T201 - the demo's output is for a person


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        request = response.request
        msg = f"{request.method} {request.url.path} answered {response.status_code}: "
        raise SystemExit(msg + response.text[:300])
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def connect(http: httpx.Client, auth: str, api_key: str, provider: str) -> str:
    """The OAuth flow a browser would follow: connect, the start link (its cookie kept in this
    client's jar binds the flow to it), the platform's page, the callback."""
    start = ok(http.get(f"{auth}/v1/oauth/{provider}/connect", headers=bearer(api_key)))
    link = http.get(start["authorize_url"], follow_redirects=False)
    if link.status_code != 302:
        raise SystemExit(f"{provider}: the start link answered {link.status_code}: {link.text}")
    authorize = httpx.URL(link.headers["location"]).copy_merge_params({"sandbox_auto_approve": "1"})
    page = http.get(authorize, follow_redirects=False)
    if page.status_code != 302:
        msg = f"{provider}: the authorize page answered {page.status_code}: {page.text[:200]}"
        raise SystemExit(msg)
    done = ok(http.get(page.headers["location"], headers={"Accept": "application/json"}))
    return str(done["integrations"][0]["integration_id"])


def main() -> int:
    env = os.environ
    auth, scheduler = env["HERALD_DEMO_AUTH_URL"], env["HERALD_DEMO_SCHEDULER_URL"]
    sandbox, admin = env["HERALD_DEMO_SANDBOX_URL"], env["HERALD_DEMO_ADMIN_TOKEN"]
    with httpx.Client(timeout=30.0) as http:
        business = ok(
            http.post(
                f"{auth}/v1/admin/businesses",
                json={"name": "Herald Demo Bakery"},
                headers=bearer(admin),
            )
        )
        key = ok(
            http.post(
                f"{auth}/v1/admin/businesses/{business['business_id']}/api-keys",
                json={"name": "demo"},
                headers=bearer(admin),
            )
        )["key"]
        say(f"created business {business['business_id']} and an API key")
        integrations = {p: connect(http, auth, key, p) for p in PROVIDERS}
        for provider, integration in integrations.items():
            say(f"connected {provider}: integration {integration}")
        image = f"{sandbox}/_sandbox/media/demo-loaf.jpg?bytes=250000&width=1080&height=1080"
        body = {
            "content": {
                "text": "Fresh sourdough out of the oven at 7am. #HeraldDemo",
                "media": [{"kind": "image", "url": image, "mime_type": "image/jpeg"}],
            },
            "targets": [{"integration_id": integrations[p], "platform": p} for p in PROVIDERS[:2]],
        }
        headers = {**bearer(key), "Idempotency-Key": f"demo-{uuid.uuid4().hex}"}
        post_id = ok(http.post(f"{scheduler}/v1/posts", json=body, headers=headers))["post_id"]
        say(f"scheduled post {post_id} to Facebook and Instagram; waiting for it to publish ...")
        deadline = time.monotonic() + 120
        while True:
            post = ok(http.get(f"{scheduler}/v1/posts/{post_id}", headers=bearer(key)))
            if post["status"] in TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    for target in post["targets"]:
        say(f"  {target['platform']:<10} {target['state']:<10} {target.get('permalink') or ''}")
    say(f"try it: export HERALD_KEY={key}; the API is at http://127.0.0.1:8102/v1/posts")
    return 0 if post["status"] == "published" else 1


if __name__ == "__main__":
    sys.exit(main())
