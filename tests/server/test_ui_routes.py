"""The inspector's HTTP side without a browser: the page, its API's refusals, and a session as HAR."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

import anthropic
import pytest

from mockgw.server.runner import MockGateway
from tests.support.rawhttp import request


def get(gateway: MockGateway, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(f"{gateway.url}{path}", timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def test_the_page_is_served_offline_from_the_package(gateway: MockGateway) -> None:
    status, kind, html = get(gateway, "/__mockgw/ui")  # redirected to /__mockgw/ui/
    assert status == 200 and kind.startswith("text/html") and "mockgw inspector" in html
    assert "http" not in html.replace('content="width=device-width', "")  # no CDN, nothing from elsewhere
    assert get(gateway, "/__mockgw/ui/static/app.js")[0] == 200
    status, _, body = get(gateway, "/__mockgw/ui/static/secrets.txt")
    assert status == 404 and json.loads(body)["error"]["message"] == "The inspector has no file 'secrets.txt'."


def test_a_bad_filter_gets_the_error_envelope(gateway: MockGateway) -> None:
    status, _, body = get(gateway, "/__mockgw/ui/api/calls?status=often")
    error = json.loads(body)["error"]
    assert status == 400 and "status must be a code" in error["message"] and error["type"] == "invalid_request_error"


@pytest.mark.parametrize("write", [False, True])
def test_actions_need_write_mode_and_a_json_request(gateway_factory: Callable[..., MockGateway], write: bool) -> None:
    gateway = gateway_factory(ui_write=write)
    answer = request(gateway.port, "POST", "/__mockgw/ui/api/reset", {"session": ""}, key=None)
    assert answer.status == (200 if write else 403)
    form = request(gateway.port, "POST", "/__mockgw/ui/api/reset", b"session=", key=None)  # not JSON
    assert form.status == (400 if write else 403)


def test_a_session_downloads_as_har(gateway: MockGateway) -> None:
    client = anthropic.Anthropic(base_url=f"{gateway.url}/s/har-demo", api_key="sk-edgee-test", max_retries=0)
    client.messages.create(
        model="anthropic/claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": "hello"}]
    )
    status, _, body = get(gateway, "/__mockgw/ui/api/har?session=har-demo")
    entries = json.loads(body)["log"]["entries"]
    assert status == 200 and len(entries) == 1
    assert entries[0]["request"]["url"].endswith("/v1/messages") and entries[0]["response"]["status"] == 200
    assert json.loads(entries[0]["response"]["content"]["text"])["content"][0]["text"]
    assert "[redacted]" in json.dumps(entries[0]["request"]["headers"])


def test_an_action_from_another_site_is_refused_even_in_write_mode(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory(ui_write=True)
    request = urllib.request.Request(
        f"{gateway.url}/__mockgw/ui/api/reset",
        data=b'{"session": ""}',
        method="POST",
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    # the control endpoint's guard refuses it first (forbidden_origin); the inspector's own check backs it up
    assert refused.value.code == 403 and json.load(refused.value)["error"]["code"] in (
        "forbidden_origin",
        "cross_origin",
    )
