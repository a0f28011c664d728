"""Allow-list entries are origins plus path prefixes (ADR 0002): an entry such as
`http://127.0.0.1:8120/_sandbox/media/` lets the fetcher read the sandbox's media and nothing
else of that origin, however the path is spelled, so a media URL aimed at the sandbox's admin
API (`/_sandbox/accounts`, `/_sandbox/ledger`, ...) is refused before any connection, with a
reason that names the trusted prefix. An entry without a path still trusts the whole origin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError

from herald.errors import Permanent
from herald.media import FetchSettings, MediaFetcher
from herald.media.guard import Trusted

from .test_media_fetcher import LoopbackServer, Tripwire, read_all

pytestmark = pytest.mark.unit
SANDBOX = "http://127.0.0.1:8120"
MEDIA = f"{SANDBOX}/_sandbox/media/"


def fetcher(*entries: str, tripwire: Tripwire | None = None) -> MediaFetcher:
    settings = FetchSettings(allowed_origins=list(entries), allowed_ports=None)
    return MediaFetcher(settings, connector=tripwire or Tripwire())


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    started = await LoopbackServer().start()
    yield started
    await started.stop()


@pytest.mark.parametrize(
    "url",
    [
        f"{MEDIA}clip.mp4",
        f"{MEDIA}clip.mp4?bytes=1500&width=1080",
        f"{MEDIA}nested/dir/p.jpg",
        "http://127.0.0.1:8120/_sandbox/media/x/../y.jpg",  # normalised to .../media/y.jpg
    ],
)
def test_urls_under_the_prefix_are_trusted(url: str) -> None:
    assert fetcher(MEDIA).check(url).startswith(MEDIA)


@pytest.mark.parametrize(
    "path",
    [
        "/_sandbox/accounts",
        "/_sandbox/ledger?platform=tiktok",
        "/_sandbox/tokens/mint",
        "/_sandbox/faults",
        "/graph.facebook.com/v23.0/me",
        "/",
        "/_sandbox/media",  # the prefix's own directory without its slash
        "/_sandbox/mediaevil/x.mp4",
        "/_SANDBOX/media/x.mp4",
        "/_sandbox/media/../accounts",  # resolved before the check: /_sandbox/accounts
        "/_sandbox/media/%2e%2e/accounts",
        "/_sandbox/media/%2E%2E/accounts",
        "/_sandbox/media/..%2faccounts",
        "/_sandbox/media%2f..%2faccounts",
        "/_sandbox/media/%2fetc",
        "/_sandbox/media/%5c..%5caccounts",
        "/_sandbox/media/x%00.mp4",
        "//_sandbox/media/x.mp4",
        "/_sandbox/media//x.mp4",
    ],
)
def test_other_paths_of_a_trusted_origin_are_refused_naming_the_prefix(path: str) -> None:
    wire = Tripwire()
    with pytest.raises(Permanent) as caught:
        fetcher(MEDIA, tripwire=wire).check(f"{SANDBOX}{path}")
    assert caught.value.code == "media_url_outside_prefix"
    assert "is trusted only under http://127.0.0.1:8120/_sandbox/media/" in caught.value.message
    assert caught.value.remediation
    assert wire.attempts == []


def test_an_origin_without_a_path_still_trusts_all_of_it() -> None:
    assert fetcher(SANDBOX).check(f"{SANDBOX}/_sandbox/accounts") == f"{SANDBOX}/_sandbox/accounts"
    both = fetcher(MEDIA, f"{SANDBOX}/")  # a whole-origin entry wins over a narrower one
    assert both.check(f"{SANDBOX}/_sandbox/ledger")


def test_several_prefixes_of_one_origin_are_each_trusted() -> None:
    two = fetcher(MEDIA, f"{SANDBOX}/files")
    assert two.check(f"{SANDBOX}/files/a.jpg")
    assert two.check(f"{MEDIA}b.jpg")
    with pytest.raises(Permanent, match=r"only under .*/_sandbox/media/, .*/files/"):
        two.check(f"{SANDBOX}/_sandbox/accounts")


def test_a_prefix_does_not_extend_to_other_origins() -> None:
    for other in ("http://127.0.0.1:8121/_sandbox/media/a.jpg", "https://127.0.0.1:8120/x.jpg"):
        with pytest.raises(Permanent) as caught:
            fetcher(MEDIA).check(other)
        assert caught.value.code in {"media_url_forbidden_address", "media_url_outside_prefix"}


async def test_the_fetcher_reads_under_the_prefix_and_nothing_else(
    server: LoopbackServer,
) -> None:
    wire = Tripwire()
    f = fetcher(f"{server.origin}/media/", tripwire=wire)
    data, _, _ = await read_all(f, f"{server.origin}/media/a.mp4?bytes=10")
    with pytest.raises(Permanent) as outside:
        await read_all(f, f"{server.origin}/admin?bytes=10")
    await f.aclose()
    assert len(data) == 10
    assert outside.value.code == "media_url_outside_prefix"
    assert server.requests == ["/media/a.mp4?bytes=10"]


async def test_a_redirect_out_of_the_prefix_is_refused(server: LoopbackServer) -> None:
    wire = Tripwire()
    f = fetcher(f"{server.origin}/media/", tripwire=wire)
    target = f"{server.origin}/admin/accounts"
    with pytest.raises(Permanent) as caught:
        await read_all(f, f"{server.origin}/media/redirect?to={target}")
    await f.aclose()
    assert caught.value.code == "media_url_outside_prefix"
    assert server.requests == [f"/media/redirect?to={target}"]


@pytest.mark.parametrize(
    ("entry", "origin", "prefix"),
    [
        ("http://127.0.0.1:8120", "http://127.0.0.1:8120", "/"),
        ("http://127.0.0.1:8120/", "http://127.0.0.1:8120", "/"),
        ("HTTP://Sandbox.Local:8120/sandbox/media", "http://sandbox.local:8120", "/sandbox/media/"),
        ("https://cdn.example.com/media/", "https://cdn.example.com:443", "/media/"),
    ],
)
def test_entries_parse_into_an_origin_and_a_directory(entry: str, origin: str, prefix: str) -> None:
    trusted = Trusted.parse(entry)
    assert str(trusted) == f"{origin}{prefix}"
    assert trusted.prefix == prefix


@pytest.mark.parametrize(
    "entry",
    [
        "ftp://127.0.0.1/media/",
        "127.0.0.1:8120",
        "http:///media/",
        "http://user:pw@127.0.0.1:8120/media/",
        "http://127.0.0.1:8120/media/?x=1",
        "http://127.0.0.1:8120/media/#top",
        "http://127.0.0.1:8120/me%64ia/",
    ],
)
def test_an_entry_that_is_not_an_origin_and_a_plain_path_stops_the_settings(entry: str) -> None:
    with pytest.raises(ValidationError, match="allowed_origins"):
        FetchSettings(allowed_origins=[entry])
