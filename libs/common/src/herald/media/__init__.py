"""The safe media fetcher: every place Herald downloads a user's media goes through it
(TikTok FILE_UPLOAD, WhatsApp media uploads). See `fetcher.py` for its use and ADR 0002."""

from herald.media.addresses import forbidden_reason, literal_address
from herald.media.fetcher import MediaFetcher, MediaStream
from herald.media.guard import Policy, Resolver, SystemResolver
from herald.media.settings import FetchSettings

__all__ = [
    "FetchSettings",
    "MediaFetcher",
    "MediaStream",
    "Policy",
    "Resolver",
    "SystemResolver",
    "forbidden_reason",
    "literal_address",
]
