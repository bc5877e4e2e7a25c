"""Who may drive the control endpoint when it has a token (`--control-token`): the decisions, without HTTP.

A server bound beyond loopback can be reached by anyone on the network, and `/__mockgw/` plants fixtures, wipes
the journal and reads it (with the prompts sent). With a control token, every control request must carry
`Authorization: Bearer <token>`, as WireMock's `--admin-api-basic-auth` and Jupyter's token do.

Two exceptions, both decided here:
- `GET /__mockgw/health` stays open: readiness loops and load-balancer probes (`curl -sf …/health`) cannot always
  send a header, and it tells only that the server is up (its version and fixture count).
- A browser cannot add a header to a page it opens: the inspector takes the token once as `?token=`, then keeps
  it in an HttpOnly, SameSite=Strict cookie (never sent by another site's page) and drops it from the address bar.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from mockgw.core.errors import ApiError
from mockgw.core.frozen import frozen
from mockgw.core.names import CONTROL_PREFIX

TOKEN_QUERY = "token"  # `/__mockgw/ui/?token=…`: the inspector's way in
OPEN_PATHS = frozenset((CONTROL_PREFIX + "/health",))
UI_PREFIX = CONTROL_PREFIX + "/ui"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mockgw control endpoint"'}


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine (`127.0.0.1`, `::1`, `localhost`)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a name (or 0.0.0.0-like wildcard spelled otherwise): assume it is reachable


def exposure_warning(host: str, token: str | None) -> str | None:
    """The one line `serve` prints when it listens beyond loopback with no control token, else None."""
    if token or is_loopback(host):
        return None
    return (
        f"mockgw: warning: listening on {host} without a control token: anyone who can reach it can read the "
        "journal and change fixtures; set --control-token (or MOCKGW_CONTROL_TOKEN)"
    )


def cookie_name(token: str) -> str:
    """The inspector's cookie for this token: named after a digest of it, so that servers with different tokens
    on one machine (cookies ignore ports) do not overwrite each other's."""
    return "mockgw_control_" + hashlib.sha256(token.encode()).hexdigest()[:12]


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def same_token(expected: str, sent: str) -> bool:
    """A constant-time comparison (the time taken does not tell how much of the token was right)."""
    return hmac.compare_digest(expected.encode(), sent.encode())


@frozen
class Access:
    """What a control request gets: through, refused (`error`), or sent to `redirect` with the cookie set."""

    error: ApiError | None = None
    redirect: bool = False  # the inspector's `?token=` was right: drop it from the URL and set the cookie


ALLOWED = Access()


def decide(
    expected: str | None,
    path: str,
    method: str,
    authorization: str | None,
    cookie: str | None,
    query_token: str | None,
) -> Access:
    """Whether a control request (`path` without any `/s/<session>` prefix) may go on."""
    if expected is None or (method in ("GET", "HEAD") and path in OPEN_PATHS):
        return ALLOWED
    if query_token is not None and path.startswith(UI_PREFIX) and method == "GET":
        if same_token(expected, query_token):
            return Access(redirect=True)
        return Access(_refusal("invalid_control_token", "The ?token= given is not this server's control token."))
    sent = bearer(authorization)
    if sent is not None:
        if same_token(expected, sent):
            return ALLOWED
        return Access(
            _refusal(
                "invalid_control_token",
                "The bearer token sent is not this server's control token (--control-token / "
                "MOCKGW_CONTROL_TOKEN). Send Authorization: Bearer <the token the server was started with>.",
            )
        )
    if cookie is not None and same_token(expected, cookie):
        return ALLOWED
    return Access(
        _refusal(
            "control_token_required",
            f"This server's control endpoint requires its control token: send Authorization: Bearer <token> "
            f"(the --control-token or MOCKGW_CONTROL_TOKEN it was started with). In a browser, open "
            f"{UI_PREFIX}/?{TOKEN_QUERY}=<token> once.",
        )
    )


def _refusal(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, "authentication_error", headers=CHALLENGE)
