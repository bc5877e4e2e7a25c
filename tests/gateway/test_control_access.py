"""The control token's decisions, without HTTP: loopback hosts, bearer headers, and who gets through."""

from __future__ import annotations

import pytest

from mockgw.gateway.control_access import bearer, decide, exposure_warning, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("api.localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("build-agent.internal", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert (exposure_warning(host, None) is None) is loopback
    assert exposure_warning(host, "t") is None


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), ("", None), (None, None)],
)
def test_bearer(header: str | None, token: str | None) -> None:
    assert bearer(header) == token


def test_who_gets_through() -> None:
    def code(*args: str | None) -> str | None:
        access = decide("tok", *args)  # type: ignore[arg-type]
        return access.error.code if access.error else ("redirect" if access.redirect else None)

    assert code("/__mockgw/calls", "GET", None, None, None) == "control_token_required"
    assert code("/__mockgw/calls", "GET", "Bearer tok", None, None) is None
    assert code("/__mockgw/calls", "GET", "Bearer tik", "tok", None) == "invalid_control_token"  # a wrong header
    assert code("/__mockgw/calls", "GET", None, "tok", None) is None  # the inspector's cookie
    assert code("/__mockgw/calls", "GET", None, None, "tok") == "control_token_required"  # ?token= is the UI's only
    assert code("/__mockgw/ui/", "GET", None, None, "tok") == "redirect"
    assert code("/__mockgw/ui/", "GET", None, None, "tik") == "invalid_control_token"
    assert code("/__mockgw/health", "GET", None, None, None) is None
    assert code("/__mockgw/health", "POST", None, None, None) == "control_token_required"
    assert decide(None, "/__mockgw/calls", "POST", None, None, None).error is None  # no token: nothing to check
