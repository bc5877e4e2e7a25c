"""`--control-token`: with one, every control request needs `Authorization: Bearer <token>` (401 in the envelope
otherwise), the inspector signs in once with `?token=`, and the handle, the pytest plugin and `mockgw export`
send it; `serve` warns when it listens beyond loopback without one (issue 11, item 6)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from mockgw.core.errors import MockgwError
from mockgw.gateway.control_access import cookie_name
from mockgw.handle import MockgwHandle, RemoteServer
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY
from tests.support.serve import served

TOKEN = "ctl-7f3a9c"
REPO = Path(__file__).resolve().parents[2]
GREETING = {"name": "greet", "match": {"last_user_message": "hello"}, "reply": {"content": "Hi from the fixture"}}


def _ask(url: str, method: str = "GET", token: str | None = None, body: Any = None) -> tuple[int, Any, Any]:
    """`METHOD url` with urllib: (status, decoded JSON body, headers), whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
            return (
                answer.status,
                json.loads(text) if answer.headers.get_content_type().endswith("json") else text,
                answer.headers,
            )
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc), exc.headers


@pytest.fixture
def tokened(gateway_factory: Callable[..., MockGateway]) -> MockGateway:
    return gateway_factory(control_token=TOKEN)


CONTROL_REQUESTS = [
    ("GET", "/__mockgw/calls"),
    ("DELETE", "/__mockgw/calls"),
    ("GET", "/__mockgw/fixtures"),
    ("POST", "/__mockgw/fixtures"),
    ("POST", "/__mockgw/reset"),
    ("GET", "/__mockgw/problems"),
    ("GET", "/__mockgw/sessions"),
    ("POST", "/__mockgw/faults"),
    ("GET", "/__mockgw/export"),
    ("GET", "/__mockgw/clock"),
    ("GET", "/s/job-1/__mockgw/calls"),
    ("POST", "/s/job-1/__mockgw/reset"),
    ("GET", "/__mockgw/ui/api/overview"),
    ("GET", "/__mockgw/ui/"),
    ("GET", "/__mockgw/no-such-route"),
]


@pytest.mark.parametrize(("method", "path"), CONTROL_REQUESTS, ids=[f"{m} {p}" for m, p in CONTROL_REQUESTS])
def test_every_control_route_needs_the_token(tokened: MockGateway, method: str, path: str) -> None:
    body = GREETING if path.endswith("fixtures") else ([] if path.endswith("faults") else None)
    status, answer, headers = _ask(tokened.url + path, method, body=body)
    assert status == 401
    assert answer["error"]["code"] == "control_token_required"
    assert answer["error"]["type"] == "authentication_error"
    assert "Authorization: Bearer <token>" in answer["error"]["message"]
    assert "?token=<token>" in answer["error"]["message"]  # the browser's way in
    assert headers["WWW-Authenticate"].startswith("Bearer")

    status, answer, _ = _ask(tokened.url + path, method, token="not-it", body=body)
    assert (status, answer["error"]["code"]) == (401, "invalid_control_token")

    status, _, _ = _ask(tokened.url + path, method, token=TOKEN, body=body)
    assert status != 401


def test_nothing_changed_without_the_token_and_health_stays_open(tokened: MockGateway) -> None:
    assert _ask(tokened.url + "/__mockgw/fixtures", "POST", body=GREETING)[0] == 401
    assert _ask(tokened.url + "/__mockgw/fixtures", token=TOKEN)[1]["fixtures"] == []
    status, health, _ = _ask(tokened.url + "/__mockgw/health")  # readiness loops and probes send no header
    assert (status, health["status"]) == (200, "ok")
    # the API itself is not behind the control token (clients send their API key in the same header)
    client = openai.OpenAI(base_url=tokened.base_url, api_key=API_KEY)
    assert client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}]).id


def test_the_handle_sends_the_token_to_a_remote_server(tokened: MockGateway) -> None:
    handle = MockgwHandle(RemoteServer(tokened.url, control_token=TOKEN), "team-a", API_KEY)
    handle.reset()
    handle.add(GREETING)
    client = openai.OpenAI(base_url=handle.url, api_key=API_KEY)
    reply = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "Hi from the fixture"
    assert [call.fixture for call in handle.calls] == ["greet"]
    assert handle.problems() == []

    without = MockgwHandle(RemoteServer(tokened.url), "team-a", API_KEY)
    with pytest.raises(MockgwError, match=r"answered 401.*control_token_required"):
        without.reset()


def test_the_inspector_signs_in_once_with_a_token_query(tokened: MockGateway) -> None:
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(f"{tokened.url}/__mockgw/ui/?token={TOKEN}&session=job-1", timeout=10) as page:
        assert page.status == 200
        assert page.url == f"{tokened.url}/__mockgw/ui/?session=job-1"  # redirected: the token left the URL
        assert b"<html" in page.read().lower()
    (cookie,) = jar
    assert (cookie.name, cookie.value, cookie.path) == (cookie_name(TOKEN), TOKEN, "/__mockgw")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Strict"
    with browser.open(f"{tokened.url}/__mockgw/ui/api/overview", timeout=10) as overview:  # the page's own fetches
        assert overview.status == 200
    status, answer, _ = _ask(f"{tokened.url}/__mockgw/ui/?token=wrong")
    assert (status, answer["error"]["code"]) == (401, "invalid_control_token")


def test_serve_warns_once_when_listening_beyond_loopback_without_a_token() -> None:
    with served("--host", "0.0.0.0", cwd=REPO) as server:
        assert _ask(server.url + "/__mockgw/calls")[0] == 200
        stderr = server.stop()
    (line,) = [line for line in stderr.splitlines() if "warning" in line]
    assert line == (
        "mockgw: warning: listening on 0.0.0.0 without a control token: anyone who can reach it can read the "
        "journal and change fixtures; set --control-token (or MOCKGW_CONTROL_TOKEN)"
    )
    with served("--host", "0.0.0.0", "--control-token", TOKEN, cwd=REPO) as server:
        assert _ask(server.url + "/__mockgw/calls")[0] == 401
        assert _ask(server.url + "/__mockgw/calls", token=TOKEN)[0] == 200
        assert "warning" not in server.stop()
    with served(cwd=REPO) as server:  # loopback: nobody else can reach it, no warning
        assert "warning" not in server.stop()


def test_the_token_from_the_environment_and_mockgw_export() -> None:
    with served(cwd=REPO, env={"MOCKGW_CONTROL_TOKEN": TOKEN}) as server:
        url = server.url
        assert _ask(url + "/__mockgw/fixtures", "POST", TOKEN, GREETING)[0] == 201
        client = openai.OpenAI(base_url=url + "/v1", api_key=API_KEY)
        client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hello"}])
        base = {**os.environ, "MOCKGW_URL": url}
        base.pop("MOCKGW_CONTROL_TOKEN", None)
        export = [sys.executable, "-m", "mockgw", "export"]
        refused = subprocess.run(export, env=base, capture_output=True, text=True, timeout=60, check=False)
        assert refused.returncode == 1
        assert "control_token_required" in refused.stderr
        for extra, env in (([], {"MOCKGW_CONTROL_TOKEN": TOKEN}), (["--control-token", TOKEN], {})):
            done = subprocess.run(
                [*export, *extra], env={**base, **env}, capture_output=True, text=True, timeout=60, check=False
            )
            assert done.returncode == 0, done.stderr
            assert "Hi from the fixture" in done.stdout


def test_the_config_file_sets_the_token(tmp_path: Path) -> None:
    (tmp_path / "mockgw.yaml").write_text(f"control_token: {TOKEN}\n")
    with served("--config", str(tmp_path / "mockgw.yaml"), cwd=REPO) as server:
        url = server.url
        assert _ask(url + "/__mockgw/calls")[0] == 401
        assert _ask(url + "/__mockgw/calls", token=TOKEN)[0] == 200
