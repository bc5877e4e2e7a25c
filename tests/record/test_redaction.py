"""Nothing secret is written: headers on the deny list, redact rules, and the final scan (also in `mockgw check`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
import yaml

from mockgw import cli
from mockgw.record.secrets import Redaction
from mockgw.server.runner import MockGateway
from tests.record.conftest import KEY
from tests.record.foreign import LEAKED_BEARER, LEAKED_JWT, LEAKED_SK, ORGANIZATION, SET_COOKIE, ForeignGateway

UPSTREAM_KEY = "upstream-only-secret-value"  # not key-shaped: only its value identifies it
PLANTED_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ0ZXN0In0.cGxhbnRlZC1zaWduYXR1cmU"
SECRETS = (KEY, UPSTREAM_KEY, PLANTED_JWT, SET_COOKIE, ORGANIZATION, LEAKED_BEARER, LEAKED_JWT, LEAKED_SK)


def _ask(gateway: MockGateway, text: str, **extra: object) -> openai.types.chat.ChatCompletion:
    client = openai.OpenAI(
        base_url=gateway.base_url,
        api_key=KEY,
        max_retries=0,
        default_headers={
            "x-edgee-api-key": KEY,
            "api-key": KEY,
            "Cookie": f"session={PLANTED_JWT}",
            "openai-project": "proj-planted-project",
            "x-internal-token": "internal-planted-token",
        },
    )
    return client.chat.completions.create(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": text}],
        metadata={"user_token": PLANTED_JWT},
        **extra,  # type: ignore[arg-type]
    )


def test_planted_secrets_appear_in_no_written_file(
    foreign: ForeignGateway, recorder_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    redaction = Redaction.of(
        headers=["x-internal-token"],
        paths=["metadata.user_token"],
        patterns=[r"tok_live_\w+", r"eyJ[\w.-]+", r"sk-proj-\w+"],
    )
    gateway = recorder_factory(foreign.url, out, mode="all", key=UPSTREAM_KEY, record={"redaction": redaction})
    _ask(gateway, "leak something")
    echoed = _ask(gateway, "echo my key")
    assert echoed.model_dump()["debug"]["auth"] == f"Bearer {UPSTREAM_KEY}"  # the upstream key replaced the client's
    assert all(seen["Authorization"] == f"Bearer {UPSTREAM_KEY}" for seen in foreign.seen)
    gateway.stop()

    text = (out / "recorded.yaml").read_text()
    assert [f["name"] for f in yaml.safe_load(text)["fixtures"]] == ["chat-leak-something", "chat-echo-my-key"]
    for secret in (*SECRETS, "proj-planted-project", "internal-planted-token"):
        assert secret not in text, secret
    assert "[REDACTED]" in text
    assert cli.check([str(out)]) == 0


def test_a_key_shaped_answer_is_not_written_and_the_log_says_where(
    foreign: ForeignGateway,
    recorder_factory: Callable[..., MockGateway],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = tmp_path / "out"
    gateway = recorder_factory(foreign.url, out, mode="all")
    with caplog.at_level(logging.ERROR, logger="mockgw.record"):
        answer = _ask(gateway, "leak something")  # the client still gets its answer
    assert answer.choices[0].message.content == "Bonjour from the foreign gateway"
    gateway.stop()
    assert not (out / "recorded.yaml").exists()
    (message,) = [r.getMessage() for r in caplog.records if "refusing" in r.getMessage()]
    assert "fixtures[0].reply.recorded.body" in message
    assert "a JWT" in message and "an sk- API key" in message and "a Bearer token" in message
    assert LEAKED_SK not in message and LEAKED_JWT not in message


@pytest.mark.parametrize(
    ("planted", "what"),
    [
        ("sk-proj-abcdefghijklmnop1234", "an sk- API key"),
        ("Bearer abcdef0123456789", "a Bearer token"),
        (PLANTED_JWT, "a JWT"),
    ],
)
def test_check_refuses_a_hand_made_file_with_a_key(
    planted: str, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hand.yaml"
    path.write_text(
        "version: 1\nfixtures:\n  - name: leaky\n    match: {last_user_message: hi}\n"
        f"    reply:\n      content: 'use {planted} to log in'\n",
        encoding="utf-8",
    )
    assert cli.check([str(path)]) == 1
    out = capsys.readouterr().out
    assert f"fixtures[0].reply.content: {what}" in out
    assert planted not in out
