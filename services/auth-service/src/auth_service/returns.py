"""Where a connection's browser may be sent when its flow ends (`return_to`, ADR 0017).

A connect may name its own return URL (the console's Integrations page) instead of the
installation's one completion URL, but only one the installation lists in
`HERALD_AUTH_OAUTH__RETURN_URLS`: anything else would make auth-service an open redirect.
"""

from __future__ import annotations

MAX_RETURN_CHARS = 2048


def allowed_return(url: str, allowed: tuple[str, ...]) -> bool:
    """`url` is one of `allowed`, or below one at a path or query boundary (never a look-alike
    host or a sibling path: `https://c.example/integrations` does not admit
    `https://c.example/integrations.evil` nor `https://c.example/integrationsX`)."""
    if len(url) > MAX_RETURN_CHARS or any(c.isspace() or c == "\\" for c in url):
        return False
    for base in allowed:
        if url == base or url.startswith((base.rstrip("/") + "/", base + "?")):
            return True
    return False
