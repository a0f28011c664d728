"""One Graph API client for every Meta publisher (Facebook Pages, Instagram, WhatsApp).

`GraphClient` makes the calls and classifies every failure into `herald.errors` (tables in
`herald.graph.errors`); `herald.graph.usage` reads the rate-limit headers; `GraphSettings` is the
settings piece a publisher nests as `graph`.
"""

from herald.errors import AmbiguousOutcome
from herald.graph.client import GraphClient, form_fields
from herald.graph.errors import classify
from herald.graph.metrics import GraphMetrics
from herald.graph.settings import GraphSettings
from herald.graph.usage import UsageReading, parse_usage

__all__ = [
    "AmbiguousOutcome",
    "GraphClient",
    "GraphMetrics",
    "GraphSettings",
    "UsageReading",
    "classify",
    "form_fields",
    "parse_usage",
]
