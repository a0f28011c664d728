"""Who may call Graph, and on what: token checks with Graph's own 190 subcodes, and asset access.

- No token: code 104. A token Graph never issued: 190 "Cannot parse access token".
- Expired: 190/463 with Graph's "Session has expired on …" wording. Revoked: 190 with the
  subcode recorded at revocation (458 app removed, 460 password changed, 492 Page role lost).
- A Page token dies with the user token it was derived from.
- Instagram-login tokens work only on graph.instagram.com, Facebook tokens only elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

from platform_sandbox.accounts import Accounts, Node, NodeKind
from platform_sandbox.graph_errors import GraphError
from platform_sandbox.tokens import INSTAGRAM_KINDS, META_USER_KINDS, Token, TokenKind, TokenStore

IG_HOST = "graph.instagram.com"
_REVOKED = {
    458: "Error validating access token: The user has not authorized application {app}.",
    459: "Error validating access token: You cannot access the app till you log in to "
    "www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user "
    "changed their password or Facebook has changed the session for security reasons.",
    464: "Error validating access token: Sessions for the user are not allowed because the user "
    "is not a confirmed user.",
    467: "Error validating access token: The session is invalid because the user logged out.",
    492: "Error validating access token: The user is not an admin, editor, or moderator of the "
    "Page.",
}


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")


def cannot_parse() -> GraphError:
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def ensure_alive(token: Token, store: TokenStore, now: float) -> None:
    if token.revoked:
        subcode = token.revoked_subcode or 467
        message = _REVOKED.get(subcode, _REVOKED[467]).format(app=token.app_id)
        raise GraphError(190, message, subcode=subcode)
    if token.expired(now):
        expired_at = token.expires_at or now
        raise GraphError(
            190,
            f"Error validating access token: Session has expired on {_stamp(expired_at)}. "
            f"The current time is {_stamp(now)}.",
            subcode=463,
        )
    if token.parent is not None:
        parent = store.get(token.parent)
        if parent is not None:
            ensure_alive(parent, store, now)


def graph_token(
    value: str | None, *, host: str, store: TokenStore, now: float, app: tuple[str, str]
) -> Token:
    """The live token behind `value`, or the Graph error a client would see."""
    if value is None:
        raise GraphError(104, "An access token is required to request this resource.")
    app_id, app_secret = app
    if value == f"{app_id}|{app_secret}":
        return Token(value, TokenKind.APP, app_id, app_id, frozenset(), now, None)
    token = store.get(value)
    if token is None or token.kind in (TokenKind.TT_ACCESS, TokenKind.TT_REFRESH):
        raise cannot_parse()
    if (host == IG_HOST) != (token.kind in INSTAGRAM_KINDS):
        raise cannot_parse()
    ensure_alive(token, store, now)
    return token


def allowed_accounts(token: Token, accounts: Accounts) -> frozenset[str]:
    """Every Page, Instagram account, WABA, number and business the token may act on."""
    if token.kind in META_USER_KINDS:
        pages = accounts.pages_of(token.subject)
        wabas = accounts.wabas_of_user(token.subject)
        found = {token.subject} | {p.id for p in pages} | {w.id for w in wabas}
        found |= {p.ig_user_id for p in pages if p.ig_user_id}
        found |= {b.id for b in accounts.businesses.values() if b.owner_user_id == token.subject}
        found |= {n.id for w in wabas for n in accounts.phone_numbers_of(w.id)}
        return frozenset(found)
    if token.kind is TokenKind.PAGE:
        page = accounts.pages.get(token.subject)
        ig = {page.ig_user_id} if page and page.ig_user_id else set()
        return frozenset({token.subject, *ig})
    if token.kind is TokenKind.SYSTEM_USER:
        numbers = {n.id for w in token.assets for n in accounts.phone_numbers_of(w)}
        owners = {accounts.wabas[w].business_id for w in token.assets if w in accounts.wabas}
        return frozenset({token.subject, *token.assets, *numbers, *owners})
    if token.kind in INSTAGRAM_KINDS:
        return frozenset({token.subject})
    return frozenset()


def may_access(token: Token, node: Node, accounts: Accounts) -> bool:
    if node.kind is NodeKind.SYSTEM_USER:
        return token.subject == node.id
    if token.kind is TokenKind.SYSTEM_USER:
        # The hot path (WhatsApp sends): answer from the number's WABA without listing assets.
        number = accounts.phone_numbers.get(node.account)
        if node.account in token.assets or (number is not None and number.waba_id in token.assets):
            return True
    return node.account in allowed_accounts(token, accounts)
