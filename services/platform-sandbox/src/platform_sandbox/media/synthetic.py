"""Synthetic media files of a requested kind and size, and recognising media by its bytes.

The files are not pictures or films, but their first bytes are what a format check reads: a JPEG
starts with SOI, a JFIF segment and a SOF0 frame header carrying width and height, and ends with
EOI; a PNG has its signature and an IHDR chunk with a correct CRC; an MP4 is an `ftyp` box and
an `mdat` box sized to the rest; WebP is a RIFF container. Bodies are generated as they stream,
so a 4 GB video costs no memory.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

CHUNK = 64 * 1024
_FILLER = bytes(range(256)) * (CHUNK // 256)


@dataclass(frozen=True)
class Kind:
    ext: str
    mime: str
    default_bytes: int


KINDS = {
    "jpg": Kind("jpg", "image/jpeg", 200 * 1024),
    "jpeg": Kind("jpeg", "image/jpeg", 200 * 1024),
    "png": Kind("png", "image/png", 200 * 1024),
    "webp": Kind("webp", "image/webp", 100 * 1024),
    "mp4": Kind("mp4", "video/mp4", 2 * 1024 * 1024),
    "mov": Kind("mov", "video/quicktime", 2 * 1024 * 1024),
    "pdf": Kind("pdf", "application/pdf", 50 * 1024),
    "bin": Kind("bin", "application/octet-stream", 10 * 1024),
}


def _jpeg_head(width: int, height: int) -> bytes:
    jfif = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width)
    sof0 += b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + jfif + sof0


def _png_head(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def _mp4_head(size: int, brand: bytes) -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"mp41"
    return ftyp + struct.pack(">I", max(8, size - len(ftyp))) + b"mdat"


def _framing(ext: str, size: int, width: int, height: int) -> tuple[bytes, bytes]:
    """The bytes a file of kind `ext` starts and ends with."""
    framings: dict[str, Callable[[], tuple[bytes, bytes]]] = {
        "jpg": lambda: (_jpeg_head(width, height), b"\xff\xd9"),
        "jpeg": lambda: (_jpeg_head(width, height), b"\xff\xd9"),
        "png": lambda: (_png_head(width, height), b""),
        "mp4": lambda: (_mp4_head(size, b"isom"), b""),
        "mov": lambda: (_mp4_head(size, b"qt  "), b""),
        "webp": lambda: (b"RIFF" + struct.pack("<I", max(0, size - 8)) + b"WEBPVP8 ", b""),
        "pdf": lambda: (b"%PDF-1.4\n", b"\n%%EOF\n"),
    }
    framing = framings.get(ext)
    return framing() if framing else (b"", b"")


def minimum_size(ext: str) -> int:
    head, tail = _framing(ext, 0, 1, 1)
    return len(head) + len(tail)


def generate(ext: str, size: int, width: int = 1080, height: int = 1080) -> Iterator[bytes]:
    """Exactly `size` bytes of a file of kind `ext`, in chunks."""
    head, tail = _framing(ext, size, width, height)
    body = size - len(head) - len(tail)
    if body < 0:
        msg = f"a .{ext} file needs at least {len(head) + len(tail)} bytes"
        raise ValueError(msg)
    yield head
    while body > 0:
        piece = _FILLER[: min(CHUNK, body)]
        body -= len(piece)
        yield piece
    if tail:
        yield tail


@dataclass(frozen=True)
class Sniffed:
    kind: str | None  # jpeg, png, webp, mp4, mov, webm, pdf, or None when unknown
    width: int | None = None
    height: int | None = None


_SIGNATURES: list[tuple[Callable[[bytes], bool], str]] = [
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", "webp"),
    (lambda h: h[4:8] == b"ftyp" and h[8:12] == b"qt  ", "mov"),
    (lambda h: h[4:8] == b"ftyp", "mp4"),
    (lambda h: h.startswith(b"\x1a\x45\xdf\xa3"), "webm"),
    (lambda h: h.startswith(b"%PDF"), "pdf"),
]


def sniff(head: bytes) -> Sniffed:
    """What the first bytes of a file say it is (and its size in pixels, when they say)."""
    if head.startswith(b"\xff\xd8\xff"):
        return _sniff_jpeg(head)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return Sniffed("png", width, height)
    return Sniffed(next((kind for test, kind in _SIGNATURES if test(head)), None))


def _sniff_jpeg(head: bytes) -> Sniffed:
    pos = 2
    while pos + 9 <= len(head) and head[pos] == 0xFF:
        marker, length = head[pos + 1], struct.unpack(">H", head[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", head[pos + 5 : pos + 9])
            return Sniffed("jpeg", width, height)
        pos += 2 + length
    return Sniffed("jpeg")
