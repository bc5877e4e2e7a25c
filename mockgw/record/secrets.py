"""Keeping secrets out of recordings: the header deny list, `redact:` rules, and the final key-shaped scan.

The scan is the last word: a recording (or any fixture file `mockgw check` reads) with something shaped like a key
is refused, and every place is named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mockgw.core.frozen import frozen

# Request and response headers never written (lower case); `--deny-header` / `redact.headers` add more.
DENY_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-edgee-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
    }
)

REDACTED = "[REDACTED]"

# What a key looks like. Long enough not to fire on prose ("task-list", "sk-learn").
KEY_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an sk- API key", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")),
    # a token has a digit somewhere: "Bearer authentication" in prose is not one
    ("a Bearer token", re.compile(r"\bBearer\s+(?=[\w.~+/=\-]*\d)[\w.~+/=\-]{12,}")),
    ("a JWT", re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}")),
)


@frozen
class Redaction:
    """What to remove before anything is written: headers by name, JSON body paths, and regex patterns.

    A path is dotted keys, `*` for any key or list item: `metadata.user_id`, `messages.*.name`."""

    headers: frozenset[str] = DENY_HEADERS
    paths: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def of(cls, headers: Iterable[str] = (), paths: Iterable[str] = (), patterns: Iterable[str] = ()) -> Redaction:
        """The default deny list plus these additions."""
        return cls(DENY_HEADERS | {h.lower() for h in headers}, tuple(paths), tuple(re.compile(p) for p in patterns))


@frozen
class Finding:
    """Something key-shaped at `where` (a path in the document, e.g. fixtures[0].reply.recorded.body)."""

    where: str
    what: str
    sample: str  # the start of the value only: the message must not repeat the secret

    def __str__(self) -> str:
        return f"{self.where}: {self.what} ({self.sample}…)"


def kept_headers(headers: Mapping[str, str], redaction: Redaction, drop: Iterable[str] = ()) -> dict[str, str]:
    """The headers minus the deny list and `drop` (lower-cased names, in their order)."""
    dropped = redaction.headers | {d.lower() for d in drop}
    return {k.lower(): v for k, v in headers.items() if k.lower() not in dropped}


def redact_text(text: str, redaction: Redaction, literals: Iterable[str] = ()) -> str:
    """`text` with every pattern match and every literal secret replaced."""
    for pattern in redaction.patterns:
        text = pattern.sub(REDACTED, text)
    for literal in literals:
        if literal:
            text = text.replace(literal, REDACTED)
    return text


def _redact_path(value: Any, parts: list[str]) -> Any:
    if not parts:
        return REDACTED
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        return {k: _redact_path(v, rest) if head in ("*", k) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_path(v, rest) if head in ("*", str(i)) else v for i, v in enumerate(value)]
    return value


def redact_json(value: Any, redaction: Redaction, literals: Iterable[str] = ()) -> Any:
    """A JSON value with the redaction's paths replaced, then its patterns and literals in every string."""
    for path in redaction.paths:
        value = _redact_path(value, path.split("."))
    literals = tuple(literals)

    def strings(item: Any) -> Any:
        if isinstance(item, str):
            return redact_text(item, redaction, literals)
        if isinstance(item, dict):
            return {k: strings(v) for k, v in item.items()}
        if isinstance(item, list):
            return [strings(v) for v in item]
        return item

    return strings(value)


def redact_body(body: bytes, redaction: Redaction, literals: Iterable[str] = ()) -> bytes:
    """A JSON body redacted; its bytes are kept as they were unless a path rule hit (then compact JSON)."""
    text = body.decode("utf-8", "replace")
    if redaction.paths:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if parsed is not None:
            redacted = redact_json(parsed, Redaction(frozenset(), redaction.paths), ())
            if redacted != parsed:
                text = json.dumps(redacted, separators=(",", ":"), ensure_ascii=False)
    return redact_text(text, redaction, literals).encode()


def _walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(str(key), f"{where}.{key} (key)" if where else f"{key} (key)")
            yield from _walk(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}[{index}]")


def scan(document: Any, literals: Iterable[str] = ()) -> list[Finding]:
    """Every key-shaped string in a document (and every literal secret, e.g. the upstream key's value)."""
    literals = tuple(s for s in literals if s and len(s) >= 6)
    found: list[Finding] = []
    for where, text in _walk(document, ""):
        for what, shape in KEY_SHAPES:
            for hit in shape.finditer(text):
                found.append(Finding(where, what, hit.group()[:6]))
        for literal in literals:
            if literal in text:
                found.append(Finding(where, "a key this server was given", literal[:4]))
    return found
