"""Token compression: what a request asks for (body fields and headers) and the one deterministic compression.

`/v1/compress` and the model endpoints (chat, messages, responses) call the same `compress`, so the numbers a
client sees from `/v1/compress` are the ones its completion reports (`compression` and `usage.prompt_tokens`).

Strategies (the names the V2 headers turn on or off):
- `tool_result_trimming`: long tool results keep their first tokens (TRIM_TOKENS, or `1 - rate` of them);
- `tool_surface_reduction`: tool definitions lose their descriptions (names, types and required fields stay);
- `brevity`: asks for shorter answers; no input token changes, generated answers get half the words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from mockgw.core import tokens
from mockgw.core.conversation import Conversation
from mockgw.core.errors import ApiError, invalid_request
from mockgw.core.frozen import frozen

ENABLE_HEADER = "x-edgee-enable-compression"
RATE_HEADER = "x-edgee-compression-rate"
MODEL_HEADER = "x-edgee-compression-model"
TRIMMING = "tool_result_trimming"
SURFACE = "tool_surface_reduction"
BREVITY = "brevity"
# the V2 strategy headers the SDKs send ("true"/"false"), by strategy
STRATEGY_HEADERS: Mapping[str, str] = {
    TRIMMING: "x-edgee-compression-tool-result-trimming",
    SURFACE: "x-edgee-compression-tool-surface-reduction",
    BREVITY: "x-edgee-compression-brevity",
}
TRIM_TOKENS = 200  # without a rate, tool results longer than this are cut to it
RATE_MIN_TOKENS = 20  # with a rate, tool results shorter than this are left alone
COST_PER_TOKEN_MICROS = 60  # the OpenAPI example's ratio: 450 tokens saved = 27000 micro-USD
TOKENS_PER_MS = 500  # `time_ms`: one millisecond per this many input tokens (deterministic, not measured)
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


@frozen
class Settings:
    """What a request asks of compression. `enabled` False: nothing is compressed, no `compression` object."""

    enabled: bool = False
    model: str | None = None  # compression_model (body) or X-Edgee-Compression-Model: technique "tool"
    rate: float | None = None
    strategies: tuple[str, ...] = (TRIMMING,)

    def as_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "model": self.model, "rate": self.rate, "strategies": list(self.strategies)}


OFF = Settings()
# everything read_settings reads: a request with none of them gets OFF without the reads (docs/bench.md)
HEADERS = (ENABLE_HEADER, RATE_HEADER, MODEL_HEADER, *STRATEGY_HEADERS.values())
BODY_FIELDS = ("compression_model", "compression_rate", "compression_configuration", "enable_compression")


@frozen
class Result:
    """A compressed request: the body as sent upstream and the counts before and after."""

    body: Mapping[str, Any]
    settings: Settings
    applied: tuple[str, ...]
    uncompressed: int
    compressed: int

    @property
    def saved(self) -> int:
        return max(0, self.uncompressed - self.compressed)

    @property
    def rate(self) -> float:
        """The fraction of input tokens removed (0-1)."""
        return self.saved / self.uncompressed if self.uncompressed else 0.0

    @property
    def time_ms(self) -> int:
        return self.uncompressed // TOKENS_PER_MS

    def metadata(self) -> dict[str, Any]:
        """`/v1/compress`'s `compression` object (CompressMetadata)."""
        return {
            "technique": "tool" if self.settings.model else "auto",
            "applied_strategies": list(self.applied),
            "compression_rate": round(self.rate, 4),
            "uncompressed_input_tokens": self.uncompressed,
            "compressed_input_tokens": self.compressed,
            "compression_time_ms": self.time_ms,
        }

    def info(self) -> dict[str, Any]:
        """A completion's `compression` object (CompressionInfo)."""
        return {
            "saved_tokens": self.saved,
            "cost_savings": self.saved * COST_PER_TOKEN_MICROS,
            "reduction": self.rate * 100,
            "time_ms": self.time_ms,
        }


def _flag(headers: Mapping[str, str], name: str) -> bool | ApiError | None:
    raw = headers.get(name)
    if raw is None:
        return None
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return invalid_request(f"Header {name} must be true or false, got {raw!r}.", name)


def _rate(headers: Mapping[str, str], body: Mapping[str, Any]) -> float | ApiError | None:
    raw: Any = headers.get(RATE_HEADER)
    where = RATE_HEADER
    if raw is None:  # the older SDKs send it in the body (TS 0.1.5, Rust/Go `compression_configuration`)
        config = body.get("compression_configuration")
        raw = body.get("compression_rate", config.get("rate") if isinstance(config, Mapping) else None)
        where = "compression_rate"
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not 0 <= value <= 1 or isinstance(raw, bool):
        return invalid_request(
            f"{where} must be a number between 0 and 1 (the fraction of input tokens to remove), got {raw!r}.", where
        )
    return value


def read_settings(
    body: Mapping[str, Any], headers: Mapping[str, str], *, default_on: bool = False
) -> Settings | ApiError:
    """The compression a request asks for, or a 400 naming the header or field at fault.

    Compression is on when the request names a compression model (body or header), enables it (header or the
    older `enable_compression` body field), turns a strategy on, or sets a rate; `X-Edgee-Enable-Compression:
    false` turns it off whatever else is sent. `default_on`: `/v1/compress`, which always compresses."""
    if not default_on and not any(n in headers for n in HEADERS) and not any(f in body for f in BODY_FIELDS):
        return OFF  # asks nothing of compression (nearly every request): what the reads below would give
    enable = _flag(headers, ENABLE_HEADER)
    if isinstance(enable, ApiError):
        return enable
    rate = _rate(headers, body)
    if isinstance(rate, ApiError):
        return rate
    switches: dict[str, bool] = {}
    for strategy, header in STRATEGY_HEADERS.items():
        value = _flag(headers, header)
        if isinstance(value, ApiError):
            return value
        if value is not None:
            switches[strategy] = value
    header_model = (headers.get(MODEL_HEADER) or "").strip()
    body_model = body.get("compression_model")
    model = header_model or (body_model if isinstance(body_model, str) and body_model else None)
    body_enable = body.get("enable_compression")
    asked = bool(model) or rate is not None or any(switches.values()) or enable is True or body_enable is True
    enabled = (asked or default_on) and enable is not False
    # a compression model is a bundle of every strategy; otherwise only trimming unless a header turns one on
    base = {TRIMMING: True, SURFACE: bool(model), BREVITY: bool(model)}
    base.update(switches)
    strategies = tuple(name for name in (TRIMMING, SURFACE, BREVITY) if base[name])
    return Settings(enabled=enabled, model=model or None, rate=rate, strategies=strategies)


def trim(text: str, rate: float | None) -> str:
    """A tool result after `tool_result_trimming` (never longer, in tokens, than the text given)."""
    total = tokens.count(text)
    if rate is None:
        keep = TRIM_TOKENS
    elif total < RATE_MIN_TOKENS:
        return text
    else:
        keep = math.ceil(total * (1 - rate))
    if total <= keep:
        return text
    trimmed = tokens.truncate(text, keep) + f"\n[{total - keep} tokens trimmed]"
    return trimmed if tokens.count(trimmed) < total else text


def _trim_content(content: Any, rate: float | None) -> Any:
    if isinstance(content, str):
        return trim(content, rate)
    if isinstance(content, list):
        return [
            {**part, "text": trim(part["text"], rate)}
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    return content


def _trim_item(item: Any, fmt: str, rate: float | None) -> Any:
    """One message (chat, Anthropic) or input item (Responses) with its tool results trimmed."""
    if not isinstance(item, Mapping):
        return item
    if fmt == "chat" and item.get("role") == "tool":
        return {**item, "content": _trim_content(item.get("content"), rate)}
    if fmt == "responses" and item.get("type") == "function_call_output":
        return {**item, "output": _trim_content(item.get("output"), rate)}
    if fmt == "messages" and isinstance(item.get("content"), list):
        blocks = [
            {**b, "content": _trim_content(b.get("content"), rate)}
            if isinstance(b, Mapping) and b.get("type") == "tool_result"
            else b
            for b in item["content"]
        ]
        return {**item, "content": blocks}
    return item


def _undescribed(schema: Any) -> Any:
    """A JSON Schema without its `description`s (at any depth)."""
    if isinstance(schema, Mapping):
        return {k: _undescribed(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [_undescribed(v) for v in schema]
    return schema


def _reduce_tool(tool: Any) -> Any:
    """A tool definition (any of the three formats) without descriptions."""
    if not isinstance(tool, Mapping):
        return tool
    if isinstance(tool.get("function"), Mapping):
        return {**tool, "function": _undescribed(tool["function"])}
    return _undescribed(tool)


def detect_format(body: Mapping[str, Any]) -> str:
    """The documented detection: `system` -> Anthropic messages, `input` -> Responses, else chat."""
    if "system" in body:
        return "messages"
    if "input" in body:
        return "responses"
    return "chat"


def compress_body(body: Mapping[str, Any], fmt: str, settings: Settings) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The body with the settings' strategies applied, and the strategies that changed something."""
    out = dict(body)
    applied: list[str] = []
    field_name = "input" if fmt == "responses" else "messages"
    items = out.get(field_name)
    if TRIMMING in settings.strategies and isinstance(items, list):
        trimmed = [_trim_item(item, fmt, settings.rate) for item in items]
        if trimmed != items:
            out[field_name] = trimmed
            applied.append(TRIMMING)
    tools = out.get("tools")
    if SURFACE in settings.strategies and isinstance(tools, list):
        reduced = [_reduce_tool(t) for t in tools]
        if reduced != tools:
            out["tools"] = reduced
            applied.append(SURFACE)
    return out, tuple(applied)  # brevity acts on the answer, not on the input: never listed here


Parse = Callable[[Mapping[str, Any], Mapping[str, str]], Conversation]


def compress(body: Mapping[str, Any], headers: Mapping[str, str], fmt: str, parse: Parse, settings: Settings) -> Result:
    """THE compression: the body compressed and its prompt tokens before and after (by `parse` + the tokenizer)."""
    out, applied = compress_body(body, fmt, settings)
    before = tokens.count_conversation(parse(body, headers))
    after = tokens.count_conversation(parse(out, headers)) if out != body else before
    return Result(out, settings, applied, before, min(before, after))


def pinned(result: Result | None, pin: Mapping[str, Any], uncompressed: int) -> dict[str, Any]:
    """A fixture's `compression: {...}`: its fields over the computed ones (saved_tokens drives the others)."""
    computed = result.info() if result is not None else Result({}, OFF, (), uncompressed, uncompressed).info()
    info = {**computed, **{k: v for k, v in pin.items() if k in computed}}
    if "saved_tokens" in pin:
        saved = int(pin["saved_tokens"])
        info.setdefault("cost_savings", saved * COST_PER_TOKEN_MICROS)
        if "cost_savings" not in pin:
            info["cost_savings"] = saved * COST_PER_TOKEN_MICROS
        if "reduction" not in pin:
            info["reduction"] = min(100.0, saved * 100 / uncompressed) if uncompressed else 0.0
    return info
