"""Fault rules on the endpoints that call no model (models, count_tokens, compress), as real clients see them."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import anthropic
import openai
import pytest

from mockgw.handle import CallList
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on


def journal(gateway: MockGateway) -> CallList:
    return handle_on(gateway).calls


def test_a_rule_without_match_takes_down_the_model_list_too(gateway: MockGateway) -> None:
    handle_on(gateway).fault({"name": "outage", "fault": {"type": "error", "status": 503}})
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.InternalServerError) as raised:
        client.models.list()
    assert raised.value.status_code == 503
    assert journal(gateway)[-1].fault == "error"


def test_a_rule_restricted_to_count_tokens_spares_messages(gateway: MockGateway) -> None:
    handle_on(gateway).fault(
        {"name": "no-counting", "match": {"endpoint": "count_tokens"}, "fault": {"type": "error", "status": 429}},
    )
    client = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "hello"}]
    with pytest.raises(anthropic.RateLimitError):
        client.messages.count_tokens(model="claude-sonnet-4.5", messages=messages)
    answer = client.messages.create(model="claude-sonnet-4.5", max_tokens=50, messages=messages)
    assert answer.content[0].type == "text"
    assert [call.status for call in journal(gateway)] == [429, 200]


def test_a_reset_rule_on_compress_breaks_the_connection(gateway: MockGateway) -> None:
    handle_on(gateway).fault({"name": "rst", "match": {"endpoint": "compress"}, "fault": {"type": "reset"}})
    body = json.dumps({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(
        f"{gateway.base_url}/compress",
        data=body,
        method="POST",
        headers={"authorization": f"Bearer {API_KEY}", "content-type": "application/json"},
    )
    with pytest.raises((ConnectionError, OSError)):
        urllib.request.urlopen(request, timeout=10)
    assert journal(gateway)[-1].fault == "reset"
