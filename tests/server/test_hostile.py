"""Hostile requests, one table: each gets its documented answer within 2 s, the server stays live meanwhile
(`/__mockgw/health` answers within 100 ms, a functional liveness check) and RSS grows by less than 50 MiB.

The requests are the ones that froze or bloated the server before generation had a budget (issue 11), sent
with the openai SDK as a client would send them, plus more of the same families.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest

from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY, handle_on
from tests.support.serve import Served, rss_mib, served

USER: list[Any] = [{"role": "user", "content": "hi"}]


def _schema_answer(schema: dict[str, Any]) -> dict[str, Any]:
    return {"response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}}


def _tool(parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "tools": [{"type": "function", "function": {"name": "act", "parameters": parameters}}],
        "tool_choice": "required",
    }


_CYCLE = {
    "type": "object",
    "properties": {k: {"$ref": "#"} for k in "abcdefgh"},
    "required": list("abcdefgh"),
}
_DEEP_REFS = {
    "$ref": "#/$defs/n0",
    "$defs": {f"n{i}": {"type": "array", "minItems": 8, "items": {"$ref": f"#/$defs/n{i + 1}"}} for i in range(12)}
    | {"n12": {"type": "string", "minLength": 8}},
}

_NESTED_ARRAYS = {
    "type": "array",
    "minItems": 1000,
    "items": {"type": "array", "minItems": 1000, "items": {"type": "integer"}},
}

# (id, request extras, expected: "ok" or the `param` of the 400 answer_too_large). The first two (`a{1000000}`,
# `minItems: 1000000`) are the issue's own; the rest are more of the same families.
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("pattern a{1000000}", _schema_answer({"type": "string", "pattern": "a{1000000}"}), "ok"),
    (
        "tool minItems 1000000",
        _tool({"type": "object", "properties": {"xs": {"type": "array", "minItems": 1000000}}, "required": ["xs"]}),
        "tools[0].function.parameters.properties.xs.minItems",
    ),
    (
        "pattern a{2000000}",
        _schema_answer({"type": "object", "properties": {"s": {"pattern": "^a{2000000}$"}}, "required": ["s"]}),
        "response_format.json_schema.schema.properties.s.pattern",
    ),
    (
        "nested pattern repeats",
        _schema_answer({"type": "string", "pattern": "((ab){1000}c){1000}"}),
        "response_format.json_schema.schema.pattern",
    ),
    ("alternation repeated 10^5 times", _schema_answer({"type": "string", "pattern": "^(ab|cd|e){100000}$"}), "ok"),
    ("bounded pattern repeat", _schema_answer({"type": "string", "pattern": "^x{0,100000000}$"}), "ok"),
    (
        "tool minItems 100000 of objects",
        _tool(
            {
                "type": "object",
                "properties": {"xs": {"type": "array", "minItems": 100000, "items": {"type": "object"}}},
                "required": ["xs"],
            }
        ),
        "tools[0].function.parameters.properties.xs.items",
    ),
    ("nested arrays 1000 x 1000", _schema_answer(_NESTED_ARRAYS), "response_format.json_schema.schema.items"),
    ("minLength 1000000", _schema_answer({"type": "string", "minLength": 1000000}), "ok"),
    (
        "minLength 10^9",
        _schema_answer({"type": "string", "minLength": 10**9}),
        "response_format.json_schema.schema.minLength",
    ),
    ("maxLength 10^12", _schema_answer({"type": "string", "maxLength": 10**12}), "ok"),
    (
        "minProperties 10^6",
        _schema_answer({"type": "object", "minProperties": 10**6}),
        "response_format.json_schema.schema.minProperties",
    ),
    ("$ref cycle through required properties", _schema_answer(_CYCLE), "response_format.json_schema.schema"),
    ("deep $ref chain of arrays", _schema_answer(_DEEP_REFS), "response_format.json_schema.schema"),
    ("enum of 100000 items", _schema_answer({"enum": list(range(100000))}), "ok"),
    (
        "uniqueItems with three possible values",
        _schema_answer({"type": "array", "items": {"enum": [1, 2, 3]}, "uniqueItems": True, "minItems": 10000}),
        "response_format.json_schema.schema.items",
    ),
    (
        "uniqueItems of booleans, few",
        _schema_answer({"type": "array", "items": {"type": "boolean"}, "uniqueItems": True}),
        "ok",
    ),
    (
        "streamed 1 MB answer",
        {"stream": True, **_schema_answer({"type": "string", "minLength": 1000000})},
        "ok",
    ),
]


class _Prober:
    """Asks `/__mockgw/health` again and again on its own thread; keeps the slowest answer time."""

    def __init__(self, url: str) -> None:
        self.url = url + "/__mockgw/health"
        self.slowest = 0.0
        self.answered = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            with urllib.request.urlopen(self.url, timeout=5) as answer:
                assert answer.status == 200
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.answered += 1
            time.sleep(0.005)

    def __enter__(self) -> _Prober:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def slowness(url: str) -> float:
    """How much slower than an idle machine this one is right now (at least 1): the slowest of a few idle health
    probes over 10 ms. The suite shares two cores with other processes; the bounds below (the issue's 2 s and
    100 ms) are multiplied by it, so that they measure what a hostile request adds, not the machine's load."""
    with _Prober(url) as prober:
        time.sleep(0.25)
    return max(1.0, prober.slowest / 0.01)


def hostile(server: Served, send: Callable[[], Any]) -> tuple[Any, float, float, _Prober]:
    """Send one hostile request with health probes running: (what `send` gave, seconds, RSS growth, prober)."""
    before = rss_mib(server)
    with _Prober(server.url) as prober:
        started = time.perf_counter()
        result = send()
        elapsed = time.perf_counter() - started
        time.sleep(0.02)
    return result, elapsed, rss_mib(server) - before, prober


@pytest.fixture(scope="module")
def shared_gateway() -> Iterator[Served]:
    with served() as server:
        # the first generated JSON answer imports the jsonschema library (~100 ms, once): not what is measured
        openai.OpenAI(base_url=server.base_url, api_key=API_KEY).chat.completions.create(
            model="openai/gpt-4o", messages=USER, **_schema_answer({"type": "object"})
        )
        yield server


def _held_problems(server: Served) -> list[str]:
    """The watchdog's problems so far (gateway/stalls.py): steps that held the server's event loop > 100 ms."""
    with urllib.request.urlopen(server.url + "/__mockgw/problems", timeout=10) as answer:
        return [p for p in json.load(answer)["problems"] if p.startswith("event loop held")]


def assert_bounded(server: Served, send: Callable[[], Any], expected: str) -> None:
    """`send()` gets its documented answer within 2 s, `/__mockgw/health` answers within 100 ms meanwhile, RSS grows
    by less than 50 MiB, and the server's own watchdog saw no step hold its loop past 100 ms.

    The two time bounds are the issue's, multiplied by how slow the machine is right now (`slowness`, measured on
    the idle server just before): they test what the hostile request adds, not the load of the machine."""
    held_before = _held_problems(server)
    for _ in range(2):  # a machine shared with other processes stalls on its own now and then: a second try
        factor = slowness(server.url)
        result, elapsed, grown, prober = hostile(server, send)
        if elapsed < 2 * factor and prober.slowest < 0.1 * factor:
            break
    assert elapsed < 2 * factor, f"answered after {elapsed:.2f} s (machine slowness {factor:.1f})"
    if expected == "ok":
        assert not isinstance(result, Exception), result
    else:
        assert isinstance(result, (openai.BadRequestError, anthropic.BadRequestError)), result
        error = result.body
        assert isinstance(error, dict)
        error = error.get("error", error)  # the anthropic SDK keeps the whole envelope
        assert error["code"] == "answer_too_large"
        assert error["param"].startswith(expected)
        assert error["param"] in error["message"]
    assert prober.answered >= 1
    assert prober.slowest < 0.1 * factor, f"/__mockgw/health took {prober.slowest * 1000:.0f} ms ({factor:.1f})"
    assert grown < 50, f"RSS grew by {grown:.0f} MiB"
    # CPU-based (a busy machine is not counted), so not scaled: a step of mockgw's own holding the loop is a defect
    assert _held_problems(server) == held_before


@pytest.mark.parametrize(("extras", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_generation_is_bounded(shared_gateway: Served, extras: dict[str, Any], expected: str) -> None:
    client = openai.OpenAI(base_url=shared_gateway.base_url, api_key=API_KEY, max_retries=0, timeout=10)

    def send() -> Any:
        try:
            if extras.get("stream"):
                rest = {k: v for k, v in extras.items() if k != "stream"}
                stream = client.chat.completions.create(model="openai/gpt-4o", messages=USER, stream=True, **rest)
                return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
            return client.chat.completions.create(model="openai/gpt-4o", messages=USER, **extras)
        except openai.BadRequestError as exc:
            return exc

    assert_bounded(shared_gateway, send, expected)


def _anthropic_tool(server: Served) -> Any:
    client = anthropic.Anthropic(base_url=server.url, api_key=API_KEY, max_retries=0, timeout=10)
    schema = {"type": "object", "properties": {"xs": {"type": "array", "minItems": 1000000}}, "required": ["xs"]}
    try:
        return client.messages.create(
            model="anthropic/claude-sonnet-4-6",
            max_tokens=100,
            messages=USER,
            tools=[{"name": "act", "description": "act", "input_schema": schema}],
            tool_choice={"type": "any"},
        )
    except anthropic.BadRequestError as exc:
        return exc


def _responses_tool(server: Served) -> Any:
    client = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=10)
    schema = {"type": "object", "minProperties": 10**6}
    try:
        return client.responses.create(
            model="openai/gpt-4o",
            input="hi",
            tools=[{"type": "function", "name": "act", "parameters": schema, "strict": False}],
            tool_choice="required",
        )
    except openai.BadRequestError as exc:
        return exc


OTHER_DIALECTS: list[tuple[str, Callable[[Served], Any], str]] = [
    ("anthropic tool input_schema minItems 1000000", _anthropic_tool, "tools[0].input_schema.properties.xs"),
    ("responses tool minProperties 10^6", _responses_tool, "tools[0].parameters.minProperties"),
]


@pytest.mark.parametrize(("send", "expected"), [c[1:] for c in OTHER_DIALECTS], ids=[c[0] for c in OTHER_DIALECTS])
def test_hostile_schemas_in_the_other_wire_formats(
    shared_gateway: Served, send: Callable[[Served], Any], expected: str
) -> None:
    assert_bounded(shared_gateway, lambda: send(shared_gateway), expected)


def test_a_catastrophic_fixture_regex_fails_fast_and_is_a_problem(gateway_factory: Callable[..., MockGateway]) -> None:
    gateway = gateway_factory()
    fixture = {"name": "backtracker", "match": {"last_user_message": {"regex": "^(a+)+$"}}, "reply": {"content": "x"}}
    mockgw = handle_on(gateway)
    mockgw.add(fixture)
    client = openai.OpenAI(base_url=gateway.base_url, api_key=API_KEY, max_retries=0, timeout=10)
    message = [{"role": "user", "content": "a" * 10_000 + "!"}]  # a 10 kB message
    tries = 0
    while tries < 2:  # as in assert_bounded: one more try when the machine stalled on its own
        tries += 1
        factor = slowness(gateway.url)
        started = time.perf_counter()
        completion = client.chat.completions.create(model="openai/gpt-4o", messages=message)
        elapsed = time.perf_counter() - started
        if elapsed < 0.1 * factor:
            break
    assert completion.choices[0].message.content != "x"  # not matched: a generated answer
    # ~15 ms on an idle machine (the search gets 10 ms of CPU); without the limit it would not end in a lifetime.
    # The 100 ms, scaled by the machine's slowness as in assert_bounded (CPU time is not wall time).
    assert elapsed < 0.1 * factor, f"answered after {elapsed * 1000:.0f} ms (machine slowness {factor:.1f})"
    problems = mockgw.problems()
    assert len(problems) == tries  # one per search that ran out
    assert all("'^(a+)+$' ran out of its 10 ms" in p and "10001 characters" in p for p in problems), problems
