"""Who may use the chat page: the holder of this launch's token, from the page's own origin.

Owns the per-launch token (it travels in the URL the person is given, as Jupyter's does),
trading it for an HttpOnly, SameSite=Strict cookie, and refusing every page request without
that cookie and every state-changing one that is not JSON sent from the page's own origin.
Knows nothing of what the page shows; the Host check for the whole server is app.py's.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

__all__ = ["COOKIE_PREFIX", "PageAccess", "Route"]

logger = logging.getLogger(__name__)

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE_PREFIX: Final = "chat-page-"
TOKEN_BYTES: Final = 32
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
NO_TOKEN: Final = (
    "This chat page needs the link with its token, as printed when it was started "
    "(http://…/chat?token=…). Open that link on this machine."
)
WRONG_TOKEN: Final = (
    "That token is not this launch's: each start prints a new link. Open the link printed "
    "by the running process."
)


class PageAccess:
    """The token of one launch and the cookie it is traded for.

    The cookie holds a second random value, not the token: a page never needs to see the
    token again once it is in, and the token is never sent back in a response.
    """

    def __init__(self, *, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(TOKEN_BYTES)
        self._session = secrets.token_urlsafe(TOKEN_BYTES)

    def page(self, serve: Route) -> Route:
        """Guard the page itself: ``?token=`` lets a browser in (and sets the cookie); the
        cookie lets it back in; anything else is 401, a wrong token 403."""

        async def entered(request: web.Request) -> web.StreamResponse:
            offered = request.query.get("token")
            if offered is not None:
                if not _same(offered, self.token):
                    logger.warning("chat page: wrong token from %s", request.remote)
                    return web.Response(status=403, text=WRONG_TOKEN)
                response = await serve(request)
                response.set_cookie(
                    _cookie_name(request), self._session,
                    httponly=True, samesite="Strict", path="/",
                )  # fmt: skip
                return response
            if not self.admitted(request):
                return web.Response(status=401, text=NO_TOKEN)
            return await serve(request)

        return entered

    def api(self, serve: Route) -> Route:
        """Guard one of the page's own routes: the cookie, and for a request that changes
        anything, a JSON body sent from the page's own origin (no cross-site request)."""

        async def checked(request: web.Request) -> web.StreamResponse:
            refusal = self.refusal(request)
            if refusal is not None:
                return refusal
            return await serve(request)

        return checked

    def admitted(self, request: web.Request) -> bool:
        """Whether the request carries this launch's cookie."""
        presented = request.cookies.get(_cookie_name(request))
        return presented is not None and _same(presented, self._session)

    def refusal(self, request: web.Request) -> web.Response | None:
        """Why the request may not use the page's routes (as a response), or None."""
        if not self.admitted(request):
            return _error(401, "no chat page cookie: open the link with the token first")
        if request.method in SAFE_METHODS:
            return None
        if request.content_type != "application/json":
            return _error(415, "send JSON (Content-Type: application/json)")
        if request.headers.get("Origin") != f"{request.scheme}://{request.host}":
            logger.warning("chat page: cross-origin %s refused origin=%s", request.method,
                           request.headers.get("Origin"))  # fmt: skip
            return _error(403, "a request that changes anything must come from the page itself")
        return None


def _cookie_name(request: web.Request) -> str:
    # Cookies are not kept apart by port: naming ours by port keeps two launches apart.
    return f"{COOKIE_PREFIX}{request.url.port or 0}"


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode())


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)
