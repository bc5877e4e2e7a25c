"""The control endpoint cannot be driven from a web page: foreign Host (DNS rebinding), foreign Origin or a
form body (CSRF) are refused; curl, the handle and JSON clients still work."""

from __future__ import annotations

import http.client
from collections.abc import Callable

import pytest

from mockgw.server.runner import MockGateway
from tests.conftest import handle_on


def _send(gateway: MockGateway, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


FIXTURE = b'{"name": "planted", "reply": {"content": "evil"}}'


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("GET", "/__mockgw/calls", {"Host": "evil.example:8080"}, None),
        ("POST", "/__mockgw/reset", {"Origin": "http://evil.example"}, None),
        ("POST", "/__mockgw/fixtures", {"Origin": "http://evil.example", "Content-Type": "text/plain"}, FIXTURE),
        ("POST", "/__mockgw/fixtures", {"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0"}, FIXTURE),
        ("POST", "/__mockgw/faults", {"Content-Type": "application/x-www-form-urlencoded", "Referer": "x"}, b"a=b"),
        ("POST", "/__mockgw/reset", {"Sec-Fetch-Site": "cross-site"}, None),
        ("POST", "/s/one/__mockgw/reset", {"Origin": "null"}, None),
    ],
    ids=["rebinding-host", "csrf-reset", "csrf-fixture", "text-plain-fixture", "form-faults", "cross-site", "null"],
)
def test_browser_shaped_control_requests_are_refused(
    gateway_factory: Callable[..., MockGateway], method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    gateway = gateway_factory()
    assert _send(gateway, method, path, headers, body) == 403
    assert handle_on(gateway).fixture_uses() == []


def test_curl_and_json_clients_still_work(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory()
    assert _send(gateway, "POST", "/__mockgw/reset", {}) == 200  # curl -X POST .../__mockgw/reset
    curl_d = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "curl/8.5.0"}
    assert _send(gateway, "POST", "/__mockgw/fixtures", curl_d, FIXTURE) == 201  # curl -d @fixture.json
    handle_on(gateway).reset()
    json_post = {"Content-Type": "application/json", "Host": f"localhost:{gateway.port}"}
    assert _send(gateway, "POST", "/__mockgw/fixtures", json_post, FIXTURE) == 201
    same_origin = {"Origin": f"http://127.0.0.1:{gateway.port}", "Host": f"127.0.0.1:{gateway.port}"}
    assert _send(gateway, "POST", "/__mockgw/reset", same_origin) == 200
    assert _send(gateway, "POST", "/v1/chat/completions", {"Origin": "http://evil.example"}, b"{}") == 401  # API
