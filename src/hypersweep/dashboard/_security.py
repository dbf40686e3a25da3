"""Who may read the dashboard, and who may cancel.

* With a token (required when serving on anything but a loopback address), every request must
  carry it: ``?token=...``, ``Authorization: Bearer ...``, or the ``hypersweep_token`` cookie that
  the server sets (HttpOnly, SameSite=Strict) when a page is opened with ``?token=``, so that the
  page's scripts, styles and API calls carry it too.
* Without a token (loopback only), reads are open to this machine, but a request whose ``Host``
  header is not a loopback name is refused, so a web page elsewhere cannot read the dashboard
  through DNS rebinding.
* Cancelling a sweep or a run (the only writes) always needs the token in a header (``Authorization: Bearer`` or
  ``X-Hypersweep-Token``), never only the cookie, so another site cannot make a browser cancel
  a sweep. Without a configured token, the token is a random one made when the server starts and
  embedded in the pages it serves, which only pages read from this server can see.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

COOKIE = "hypersweep_token"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is on this machine only."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A random URL-safe token."""
    return secrets.token_urlsafe(24)


def _host_name(request: Request) -> str:
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _header_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-hypersweep-token")


class Guard:
    """The access rules above, as an HTTP middleware.

    Args:
        token: the token every request must carry, or None (then the server must be on loopback).
    """

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.action_token = token or new_token()

    def can_read(self, request: Request) -> tuple[bool, bool]:
        """``(allowed, came_with_query_token)`` for a read."""
        if self.token is None:
            return is_loopback(_host_name(request)), False
        if _same(request.query_params.get("token"), self.token):
            return True, True
        if _same(_header_token(request), self.token):
            return True, False
        return _same(request.cookies.get(COOKIE), self.token), False

    def can_act(self, request: Request) -> bool:
        """Whether a state-changing request (cancel) carries the token in a header."""
        return self.can_read(request)[0] and _same(_header_token(request), self.action_token)

    async def __call__(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        allowed, via_query = self.can_read(request)
        if not allowed:
            detail = "A valid token is required: open the URL that 'hypersweep ui' printed."
            if self.token is None:
                detail = "This dashboard answers only to localhost addresses."
            return JSONResponse({"detail": detail}, status_code=403)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not self.can_act(request):
            return JSONResponse(
                {"detail": "Cancelling needs the dashboard's token in the Authorization header."},
                status_code=403,
            )
        response = await call_next(request)
        if via_query and self.token is not None:
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response
