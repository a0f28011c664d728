"""Hostile media URLs are refused before any connection is made.

A loopback listener that is not on the allow-list stands at port P; every spelling of a local,
private or metadata address (most of them aimed at P) must be refused with `Permanent`, and
neither the listener nor the socket layer under the guard may see a connection attempt. The
same fetcher does reach an allowed origin, so the setup itself can connect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from herald.errors import Permanent
from herald.media import FetchSettings, MediaFetcher

from .test_media_fetcher import FakeDns, LoopbackServer, Tripwire, read_all

pytestmark = pytest.mark.unit

HOSTILE = [
    "http://127.0.0.1:{P}/v.mp4",
    "http://127.1:{P}/",
    "http://127.0.1:{P}/",
    "http://127.0.0.2:{P}/",
    "http://2130706433:{P}/",
    "http://0x7f000001:{P}/",
    "http://0x7f.0x0.0x0.0x1:{P}/",
    "http://0x7f.1:{P}/",
    "http://0177.0.0.1:{P}/",
    "http://017700000001:{P}/",
    "http://127.0.0.1.:{P}/",
    "http://localhost:{P}/",
    "http://localhost.:{P}/",
    "http://LOCALHOST:{P}/",
    "http://media.localhost:{P}/",
    "http://[::1]:{P}/",
    "http://[0:0:0:0:0:0:0:1]:{P}/",
    "http://[::ffff:127.0.0.1]:{P}/",
    "http://[::ffff:7f00:1]:{P}/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{P}/",
    "http://[::127.0.0.1]:{P}/",
    "http://[64:ff9b::7f00:1]:{P}/",
    "http://[2002:7f00:1::]:{P}/",
    "http://0.0.0.0:{P}/",
    "http://0:{P}/",
    "http://[::]:{P}/",
    "http://good.example.com@127.0.0.1:{P}/",
    "http://127.0.0.1:{P}@good.example.com/",
    "http://user:pass@localhost:{P}/",
    "http://127.0.0.1:{P}\\@good.example.com/",
    "http://127.0.0.1:{P}/ /",
    "https://127.0.0.1:{P}/",
    "gopher://127.0.0.1:{P}/_stats",
    "dict://127.0.0.1:{P}/info",
    "file:///etc/passwd",
    "ftp://good.example.com/v.mp4",
    "http:///etc/passwd",
    "http://intranet:{P}/",
    "http://printer.local/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://100.64.0.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://198.18.0.1/",
    "http://192.0.2.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    # Names whose DNS answers are hostile (from the fake resolver below).
    "http://loopback.example.com:{P}/",
    "http://v6loop.example.com:{P}/",
    "http://mapped.example.com:{P}/",
    "http://internal.example.com/",
    "http://mixed.example.com:{P}/",
    "http://metadata.example.com/",
]
DNS = {
    "loopback.example.com": [["127.0.0.1"]],
    "v6loop.example.com": [["::1"]],
    "mapped.example.com": [["::ffff:127.0.0.1"]],
    "internal.example.com": [["10.1.2.3"]],
    "mixed.example.com": [["93.184.216.34", "127.0.0.1"]],
    "metadata.example.com": [["169.254.169.254"]],
}
CODES = {
    "media_url_invalid",
    "media_url_scheme",
    "media_url_credentials",
    "media_url_forbidden_host",
    "media_url_forbidden_address",
}


@pytest.fixture
async def listener() -> AsyncIterator[LoopbackServer]:
    started = await LoopbackServer().start()
    yield started
    await started.stop()


@pytest.fixture
async def allowed() -> AsyncIterator[LoopbackServer]:
    started = await LoopbackServer().start()
    yield started
    await started.stop()


def guarded(allowed: LoopbackServer, wire: Tripwire) -> MediaFetcher:
    # Any port: the address rules, not the port rule, must be what refuses these.
    settings = FetchSettings(allowed_origins=[allowed.origin], allowed_ports=None)
    dns = FakeDns({name: [list(a) for a in answers] for name, answers in DNS.items()})
    return MediaFetcher(settings, resolver=dns, connector=wire)


async def test_at_least_forty_hostile_urls_are_refused_before_any_connection(
    listener: LoopbackServer, allowed: LoopbackServer
) -> None:
    wire = Tripwire()
    fetcher = guarded(allowed, wire)
    refused: dict[str, str | None] = {}
    for template in HOSTILE:
        url = template.replace("{P}", str(listener.port))
        with pytest.raises(Permanent) as caught:
            await read_all(fetcher, url)
        refused[url] = caught.value.code
        assert caught.value.remediation, url
        assert "refused" in caught.value.message, url
    data, _, _ = await read_all(fetcher, f"{allowed.origin}/file?bytes=10")
    await fetcher.aclose()

    assert len(refused) == len(HOSTILE) >= 40
    assert set(refused.values()) <= CODES, {u: c for u, c in refused.items() if c not in CODES}
    assert listener.connections == 0
    assert wire.attempts == [("127.0.0.1", allowed.port)]
    assert len(data) == 10
    assert allowed.connections == 1


async def test_a_redirect_to_a_private_address_is_refused(
    listener: LoopbackServer, allowed: LoopbackServer
) -> None:
    wire = Tripwire()
    fetcher = guarded(allowed, wire)
    targets = [
        f"http://127.0.0.1:{listener.port}/v.mp4",
        f"http://[::1]:{listener.port}/",
        f"http://2130706433:{listener.port}/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://loopback.example.com:{listener.port}/",
        "file:///etc/passwd",
    ]
    for target in targets:
        with pytest.raises(Permanent) as caught:
            await read_all(fetcher, f"{allowed.origin}/redirect?to={target}")
        assert caught.value.code in CODES, target
    await fetcher.aclose()
    assert listener.connections == 0
    assert allowed.connections == len(targets)
    assert {host for host, _ in wire.attempts} == {"127.0.0.1"}
    assert {port for _, port in wire.attempts} == {allowed.port}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{P}/v.mp4",
        "http://[::ffff:127.0.0.1]:{P}/v.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://good@10.0.0.1/",
    ],
)
async def test_check_alone_refuses_without_dns_or_connection(
    listener: LoopbackServer, allowed: LoopbackServer, url: str
) -> None:
    wire = Tripwire()
    fetcher = guarded(allowed, wire)
    with pytest.raises(Permanent):
        fetcher.check(url.replace("{P}", str(listener.port)))
    await fetcher.aclose()
    assert wire.attempts == []


@pytest.mark.parametrize(
    ("address", "allowed_address"),
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("64:ff9b::808:808", True),
        ("2002:0808:0808::", True),
        ("::ffff:8.8.8.8", False),
        ("64:ff9b::a00:1", False),
        ("2002:a9fe:a9fe::", False),
        ("100.127.255.255", False),
        ("192.0.0.192", False),
    ],
)
def test_public_unicast_addresses_pass_and_embedded_private_ones_do_not(
    address: str, allowed_address: bool
) -> None:
    import ipaddress

    from herald.media import forbidden_reason

    assert (forbidden_reason(ipaddress.ip_address(address)) is None) is allowed_address
