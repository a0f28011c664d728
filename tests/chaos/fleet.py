"""The fleet chaos run's plan: a seeded mixed load over the four platforms and a seeded schedule
of faults. Pure: `test_fleet.py` carries it out against the running system, `checker.py` judges
what happened.

The load is counted in items, the units a platform must see at most once: a post target on
Facebook, Instagram or TikTok, or one recipient of a WhatsApp message (template messages to a
few numbers, and one broadcast to an audience). Every item of a post carries the post's marker,
so the sandbox's ledger tells which visible publish belongs to which item.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.checker import Item

# The share of items per kind; the broadcast takes what is left. Media are small: the run is
# about faults, not bytes.
MIX: dict[str, float] = {
    "facebook/text": 0.12,
    "facebook/link": 0.03,
    "facebook/photo": 0.05,
    "facebook/photos": 0.03,
    "facebook/video": 0.03,
    "instagram/image": 0.08,
    "instagram/carousel": 0.04,
    "instagram/reel": 0.04,
    "tiktok/video-upload": 0.05,
    "tiktok/video-pull": 0.03,
    "tiktok/photo-pull": 0.03,
    "whatsapp/template": 0.10,
}
TEMPLATE_RECIPIENTS = 5  # numbers per WhatsApp template post
PUBLISHERS = tuple(f"publisher-{p}" for p in ("facebook", "instagram", "tiktok", "whatsapp"))


@dataclass(frozen=True)
class Post:
    """One submission: its body, its idempotency key and the items it holds."""

    marker: str
    platform: str
    kind: str
    body: dict[str, Any]
    items: tuple[Item, ...]
    audience: tuple[str, ...] = ()  # a broadcast's numbers, imported as an audience first


@dataclass(frozen=True)
class FaultStep:
    """A fault the run injects `at_s` seconds after the load starts."""

    at_s: float
    kind: str  # kill, kafka_restart, db_restart
    targets: tuple[str, ...]  # services for kills; kafka; postgres or ferretdb


@dataclass
class Plan:
    posts: list[Post] = field(default_factory=list)
    faults: list[FaultStep] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [item for post in self.posts for item in post.items]


def _image(base: str, name: str) -> dict[str, str]:
    url = f"{base}/_sandbox/media/{name}.jpg?bytes=20000&width=1080&height=1080"
    return {"kind": "image", "url": url, "mime_type": "image/jpeg"}


def _video(base: str, name: str) -> dict[str, str]:
    url = f"{base}/_sandbox/media/{name}.mp4?bytes=150000"
    return {"kind": "video", "url": url, "mime_type": "video/mp4"}


def _target(platform: str, integration: str, **options: Any) -> dict[str, Any]:
    target: dict[str, Any] = {"integration_id": integration, "platform": platform}
    if options:
        target["options"] = {"platform": platform, **options}
    return target


def _shape(kind: str, marker: str, sandbox: str) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """(media, options) of a Facebook, Instagram or TikTok post of `kind`."""
    pulled = sandbox.replace("127.0.0.1", "localhost")  # a URL prefix verified for TikTok
    public = {"privacy_level": "PUBLIC_TO_EVERYONE"}
    shapes: dict[str, tuple[list[dict[str, str]], dict[str, Any]]] = {
        "facebook/text": ([], {}),
        "facebook/link": ([], {}),
        "facebook/photo": ([_image(sandbox, marker)], {}),
        "facebook/photos": ([_image(sandbox, f"{marker}-{n}") for n in range(3)], {}),
        "facebook/video": ([_video(sandbox, marker)], {}),
        "instagram/image": ([_image(sandbox, marker)], {"kind": "feed"}),
        "instagram/carousel": (
            [
                _image(sandbox, f"{marker}-1"),
                _image(sandbox, f"{marker}-2"),
                _video(sandbox, f"{marker}-3"),
            ],
            {"kind": "carousel"},
        ),
        "instagram/reel": ([_video(sandbox, marker)], {"kind": "reel", "share_to_feed": True}),
        "tiktok/video-upload": ([_video(sandbox, marker)], public),
        "tiktok/video-pull": ([_video(pulled, marker)], public),
        # A photo post's marker is looked for in its title.
        "tiktok/photo-pull": (
            [_image(pulled, f"{marker}-{n}") for n in range(2)],
            {**public, "title": f"Fleet herald-marker:{marker}"},
        ),
    }
    if kind not in shapes:
        msg = f"unknown kind {kind}"
        raise ValueError(msg)
    return shapes[kind]


def post_for(
    kind: str, marker: str, sandbox: str, integrations: dict[str, str], numbers: list[str]
) -> Post:
    """The submission of one `kind` ("platform/what"), marked with `marker`."""
    platform, what = kind.split("/")
    if kind == "whatsapp/template":
        recipients = [{"recipient_id": f"r{n}", "to": to} for n, to in enumerate(numbers)]
        template = {"name": "hello_world", "language": "en_US"}
        target = _target("whatsapp", integrations["whatsapp"], template=template)
        target["options"]["recipients"] = recipients
        items = tuple(Item(to, "whatsapp", "template") for to in numbers)
        return Post(marker, platform, what, {"content": {}, "targets": [target]}, items)
    media, options = _shape(kind, marker, sandbox)
    content: dict[str, Any] = {"text": f"Fleet {what} herald-marker:{marker}"}
    if kind == "facebook/link":
        content["link"] = f"https://example.com/{marker}"
    if media:
        content["media"] = media
    body = {"content": content, "targets": [_target(platform, integrations[platform], **options)]}
    return Post(marker, platform, what, body, (Item(f"{platform}:{marker}", platform, what),))


def broadcast_for(marker: str, integration: str, numbers: list[str]) -> Post:
    """`hello_world` to an audience of `numbers`; the audience id is filled in when imported."""
    template = {"name": "hello_world", "language": "en_US"}
    body = {"content": {}, "targets": [_target("whatsapp", integration, template=template)]}
    items = tuple(Item(to, "whatsapp", "broadcast-recipient") for to in numbers)
    return Post(marker, "whatsapp", "broadcast", body, items, audience=tuple(numbers))


def plan_load(
    items: int, seed: int, run: str, sandbox: str, integrations: dict[str, str]
) -> list[Post]:
    """About `items` items in a seeded order: every kind of the mix, then the broadcast."""
    rng = random.Random(seed)
    kinds: list[str] = []
    for kind, share in MIX.items():
        per_post = TEMPLATE_RECIPIENTS if kind == "whatsapp/template" else 1
        kinds += [kind] * max(1, round(items * share / per_post))
    rng.shuffle(kinds)
    posts: list[Post] = []
    numbers = (f"+4478{run}{n:05d}" for n in range(10**5))
    for n, kind in enumerate(kinds):
        marker = f"{run}f{n}"
        take = [next(numbers) for _ in range(TEMPLATE_RECIPIENTS)] if "whatsapp" in kind else []
        posts.append(post_for(kind, marker, sandbox, integrations, take))
    left = max(TEMPLATE_RECIPIENTS, items - sum(len(p.items) for p in posts))
    audience = [next(numbers) for _ in range(left)]
    # The broadcast goes out in the middle of the load, where the faults are.
    posts.insert(len(posts) // 2, broadcast_for(f"{run}b", integrations["whatsapp"], audience))
    return posts


# Kill groups in the order a run takes them: every publisher, the scheduler, auth-service, and
# several at once, so five kills cover every kind; longer runs draw more from the same list.
KILL_GROUPS: tuple[tuple[str, ...], ...] = (
    ("publisher-facebook",),
    ("scheduler",),
    ("publisher-instagram", "publisher-tiktok", "auth-service"),
    ("publisher-whatsapp",),
    ("publisher-tiktok",),
    ("auth-service",),
    ("publisher-instagram",),
    ("scheduler", "publisher-facebook"),
    ("publisher-whatsapp", "publisher-instagram"),
)


def plan_faults(kills: int, infra_restarts: int, seed: int, window_s: float) -> list[FaultStep]:
    """`kills` kill steps and `infra_restarts` of each of Kafka, PostgreSQL and FerretDB, at
    seeded times inside the first `window_s` seconds of the load, at least 4 s apart."""
    rng = random.Random(seed)
    steps = [
        KILL_GROUPS[n] if n < len(KILL_GROUPS) else rng.choice(KILL_GROUPS) for n in range(kills)
    ]
    faults: list[tuple[str, tuple[str, ...]]] = [("kill", group) for group in steps]
    for _ in range(infra_restarts):
        faults += [("kafka_restart", ("kafka",)), ("db_restart", ("postgres",))]
        faults += [("db_restart", ("ferretdb",))]
    rng.shuffle(faults)
    gap = window_s / (len(faults) + 1)
    return [
        FaultStep(round(gap * (n + 1) + rng.uniform(-0.3, 0.3) * gap, 2), kind, targets)
        for n, (kind, targets) in enumerate(faults)
    ]


def sandbox_faults() -> list[dict[str, Any]]:
    """The platforms' misbehaviour during the load, as sandbox fault rules: 5xx answers,
    requests that hang and are dropped, accepted-then-failed calls (the side effect happens, the
    answer is lost) and throttling, on every platform, plus a few permanent refusals that must end
    failed with nothing on the platform.

    WhatsApp gets no accept-then-fail: the Cloud API has no idempotency key and no way to list
    sent messages, so an ambiguous send is sent again (ADR 0007), a duplicate by design until
    status webhooks reconcile it."""
    meta_5xx = {"code": 2, "message": "Service temporarily unavailable"}
    invalid = {"code": 100, "message": "Invalid parameter"}
    lost = {"action": "accept_then_fail", "then": "drop"}
    hang = {"action": "timeout", "hang_s": 2}
    post = {"method": "POST"}
    fb, ig, wa, tt = "facebook", "instagram", "whatsapp", "tiktok"
    return [
        _rule(fb, "feed", 0.03, error=meta_5xx, **post),
        _rule(fb, "photos", 0.03, error=meta_5xx, **post),
        _rule(fb, "feed", 0.01, **hang, **post),
        _rule(fb, "feed", 0.02, **lost, **post),
        _rule(fb, "*", 0.02, error={"code": 32, "message": "Page request limit reached"}, **post),
        _rule(fb, "feed", None, error=invalid, count=3, **post),
        _rule(ig, "media_publish", 0.03, error=meta_5xx),
        _rule(ig, "container", 0.01, **hang),
        _rule(ig, "media_publish", 0.03, **lost),
        _rule(ig, "*", 0.02, error={"code": 4, "message": "Application request limit reached"}),
        _rule(ig, "media", None, error=invalid, count=2, **post),
        _rule(wa, "messages", 0.02, error={"code": 131000, "message": "Something went wrong"}),
        _rule(wa, "messages", 0.02, error={"code": 130429, "message": "Rate limit hit"}),
        _rule(wa, "messages", 0.005, action="drop"),
        _rule(tt, "status/fetch", 0.03, error={"status": 500, "code": "internal_error"}),
        _rule(tt, "upload", 0.01, **hang),
        _rule(tt, "upload", 0.03, **lost),
        _rule(tt, "*", 0.02, error={"status": 429, "code": "rate_limit_exceeded"}),
    ]


def _rule(platform: str, endpoint: str, probability: float | None, **rest: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"platform": platform, "endpoint": endpoint, **rest}
    if probability is not None:
        rule["probability"] = probability
    return rule
