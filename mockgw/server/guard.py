"""The control endpoint cannot be driven from a web page: DNS rebinding and CSRF are refused.

`/__mockgw/` can plant fixtures, wipe the journal and read it. A page open in the developer's browser could
reach it two ways:
- DNS rebinding: a hostile name resolving to 127.0.0.1 reads the journal. Such a request carries the hostile
  name in `Host`: only loopback names (`localhost`, `*.localhost`), IP literals (no rebinding without a name)
  and the name the server was told to bind are accepted.
- CSRF: a page posts a form (or `text/plain`) to `/__mockgw/reset`. A browser marks it with a foreign `Origin`
  (or `Sec-Fetch-Site: cross-site`), and a form body can only be `application/x-www-form-urlencoded`,
  `multipart/form-data` or `text/plain`: such state-changing requests from a browser are refused. A bare
  `curl -X POST .../__mockgw/reset`, `curl -d @fixture.json` and urllib (form-urlencoded by default, but no
  browser headers) and every JSON client still work.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from mockgw.core.errors import ApiError
from mockgw.core.names import CONTROL_PREFIX
from mockgw.gateway import control_access

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATE_CHANGING = frozenset(("POST", "PUT", "PATCH", "DELETE"))
FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"))


def _host_allowed(host: str, allowed: frozenset[str]) -> bool:
    name = host.lower()
    if name.startswith("["):  # [::1]:8080
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    if name in ("localhost", "") or name.endswith(".localhost") or name in allowed:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True  # an IP literal: nothing to rebind


def _from_browser(request: web.Request) -> bool:
    """Whether a browser sent it: it always adds Origin, Referer or Sec-Fetch-* on a form post, and says Mozilla.
    curl -d and urllib send form-urlencoded by default with none of these: scripts keep working."""
    headers = request.headers
    return any(name in headers for name in ("Origin", "Referer", "Sec-Fetch-Site", "Sec-Fetch-Mode")) or headers.get(
        "User-Agent", ""
    ).startswith("Mozilla/")


def _refusal(code: str, message: str) -> web.Response:
    error = ApiError(403, code, message, "permission_error")
    return web.Response(status=403, body=error.body(), content_type="application/json")


def refusal(request: web.Request, allowed: frozenset[str]) -> web.Response | None:
    """The 403 a control request gets from a browser page, or None when it may go through."""
    host = request.headers.get("Host")
    if host is not None and not _host_allowed(host, allowed):
        return _refusal(
            "forbidden_host",
            f"The control endpoint answers only loopback names and the server's own host, not Host: {host!r} "
            "(a web page could reach it through DNS rebinding). Use 127.0.0.1 or localhost.",
        )
    if request.method not in STATE_CHANGING:
        return None
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        origin_host = urlsplit(origin).netloc
        if not _host_allowed(origin_host, allowed) or (host is not None and origin_host.lower() != host.lower()):
            return _refusal(
                "forbidden_origin",
                f"State-changing control requests from a web page of another origin ({origin}) are refused "
                "(cross-site request forgery). Send them from a test, curl or a script.",
            )
    if origin == "null" or request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return _refusal("forbidden_origin", "State-changing control requests from another site are refused.")
    kind = request.content_type.lower() if request.headers.get("Content-Type") else ""
    if kind in FORM_TYPES and _from_browser(request):
        return _refusal(
            "forbidden_content_type",
            f"Control requests with a {kind} body are refused (what a web form can send). Send JSON "
            "(Content-Type: application/json), or no body.",
        )
    return None


def token_refusal(request: web.Request, token: str) -> web.Response | None:
    """The 401 a control request without the control token gets (control_access decides), the inspector's
    `?token=` sign-in (a redirect that sets its cookie), or None when it may go through."""
    path = request.path
    access = control_access.decide(
        token,
        path[path.find(CONTROL_PREFIX + "/") :],
        request.method,
        request.headers.get("Authorization"),
        request.cookies.get(control_access.cookie_name(token)),
        request.query.get(control_access.TOKEN_QUERY),
    )
    if access.error is not None:
        error = access.error
        return web.Response(
            status=error.status, body=error.body(), content_type="application/json", headers=error.headers
        )
    if access.redirect:  # the token leaves the address bar (and the history) at once; the cookie carries it
        query = {k: v for k, v in request.query.items() if k != control_access.TOKEN_QUERY}
        answer = web.Response(status=303, headers={"Location": str(request.rel_url.with_query(query))})
        answer.set_cookie(
            control_access.cookie_name(token), token, path=CONTROL_PREFIX, httponly=True, samesite="Strict"
        )
        return answer
    return None


ALLOWED_HOSTS: web.AppKey[frozenset[str]] = web.AppKey("guard_allowed_hosts", frozenset)
CONTROL_TOKEN: web.AppKey[str] = web.AppKey("guard_control_token", str)  # set only when the server has one


def guarded(handler: Handler) -> Handler:
    """`handler` behind `refusal`: every control route is registered through this (the API routes are not guarded).

    A wrapper per control route rather than an aiohttp middleware: a middleware runs on every API request too
    (docs/bench.md). The server's own host name is read from `app[ALLOWED_HOSTS]`, its control token (if any) from
    `app[CONTROL_TOKEN]`."""

    @functools.wraps(handler)
    async def guard(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, request.app[ALLOWED_HOSTS])
        if refused is None:
            token = request.app.get(CONTROL_TOKEN)
            if token is not None:
                refused = token_refusal(request, token)
        if refused is not None:
            return refused
        return await handler(request)

    return guard
