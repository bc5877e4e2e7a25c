"""A plain request read whole from one read, without aiohttp's parser: the fast path's most common case.

A load test or a test suite sends small requests, each arriving whole in one read on a kept-alive connection. For
those, aiohttp's parser and the objects it makes per request (a `RawRequestMessage`, a `URL`, a `StreamReader`
for the body) cost about a twentieth of the request's time. `read_plain` reads such a request itself, but only in
the plainest form HTTP/1.1 allows, which aiohttp's parser reads the same way (tests/server/test_plain_head.py
compares both on generated heads):

- the request line `METHOD /target HTTP/1.1`, the method one of GET, POST, PUT, PATCH, DELETE;
- at most 100 header lines `Name: value` (one space or none after the colon), the value visible ASCII with inner
  spaces, one `Host`, no second one of a header aiohttp allows once (`Content-Length`, `Content-Type`, ...);
- no `Transfer-Encoding`, `Content-Encoding`, `Expect`, `Upgrade`, `Sec-WebSocket-Key1` or `Proxy-Connection`,
  and one `Connection` at most, exactly `keep-alive` or `close`;
- then exactly the body `Content-Length` gives (none without it), and nothing after it.

Anything else is None and goes to aiohttp's parser as before, so what aiohttp refuses is still refused by it (in
the envelope, server/connections.py). Header names come out as aiohttp gives them: a name aiohttp knows in its own
spelling (`content-type` becomes `Content-Type`), any other as sent.
"""

from __future__ import annotations

import re

from aiohttp import hdrs
from multidict import CIMultiDict, CIMultiDictProxy, istr

from mockgw.core.frozen import frozen

MAX_HEAD = 8190  # aiohttp's limit on one line: a head under it is under each of its parser's size limits
MAX_HEADERS = 100  # aiohttp refuses over 128
# `METHOD SP /target SP HTTP/1.1 CRLF`: a method without special reading (not HEAD, CONNECT...), an origin-form
# target of visible ASCII
REQUEST_LINE = re.compile(rb"(GET|POST|PUT|PATCH|DELETE) (/[!-~]*) HTTP/1\.1\r\n")
# header lines: `token ":" [SP] value CRLF`, the value visible ASCII with inner spaces, not beginning or ending in one
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VISIBLE = bytes(range(0x20, 0x7F))
CRLF = b"\r\n"
# aiohttp's parser names the headers it knows with its own constants (its `find_header`), the others as sent
KNOWN = {str(name).lower(): name for name in vars(hdrs).values() if isinstance(name, istr)}
# headers that need aiohttp's own reading: a body framed otherwise or encoded, a protocol change, or a refusal
NOT_PLAIN = frozenset(
    name.lower()
    for name in (hdrs.TRANSFER_ENCODING, hdrs.CONTENT_ENCODING, hdrs.EXPECT, hdrs.UPGRADE, hdrs.SEC_WEBSOCKET_KEY1)
) | {"proxy-connection"}  # read by llhttp as `Connection`
# headers aiohttp's request parser refuses twice (its SINGLETON_HEADERS)
ONCE = frozenset(
    name.lower()
    for name in (
        hdrs.CONTENT_LENGTH,
        hdrs.CONTENT_LOCATION,
        hdrs.CONTENT_RANGE,
        hdrs.CONTENT_TYPE,
        hdrs.ETAG,
        hdrs.HOST,
        hdrs.MAX_FORWARDS,
        hdrs.SERVER,
        hdrs.TRANSFER_ENCODING,
        hdrs.USER_AGENT,
    )
)
CLOSES = {"keep-alive": False, "close": True}  # the `Connection` values read here, and whether they close
# the kinds of header names: read here and allowed once, or left to aiohttp ("": any other)
NOT_READ, LENGTH, CONNECTION, ONE = "not read", "content-length", "connection", "once"
KINDS = {**dict.fromkeys(ONCE, ONE), "content-length": LENGTH, "connection": CONNECTION}
NAMES: dict[str, tuple[str, str, str]] = {}  # header names as sent, as `_name` reads them
MAX_NAMES = 1024


@frozen
class PlainRequest:
    """A request read by `read_plain`: what the fast path needs of it."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]
    body: bytes
    should_close: bool  # `Connection: close`


def read_plain(data: bytes) -> PlainRequest | None:
    """`data` as one whole plain request (see the module's docstring), or None to leave it to aiohttp's parser."""
    end = data.find(b"\r\n\r\n")
    if end < 0 or end >= MAX_HEAD:
        return None
    line = REQUEST_LINE.match(data)
    if line is None:
        return None
    block = data[line.end() : end]  # the header lines, without the last one's CRLF
    breaks = block.translate(None, VISIBLE)  # what is left once visible ASCII and spaces are taken out
    if breaks != CRLF * (len(breaks) // 2) or len(breaks) >= 2 * MAX_HEADERS:
        return None  # a byte other than visible ASCII or a space, or a line break that is not CRLF
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    length = 0
    should_close = False
    for header in block.decode("ascii").split("\r\n"):
        name, colon, value = header.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if not colon or (value and (value[0] == " " or value[-1] == " ")):
            return None
        spelt, kind, lower = NAMES.get(name) or _name(name)
        if kind:  # a header read here, allowed once, or left to aiohttp
            if kind is NOT_READ or lower in seen:
                return None
            seen.add(lower)
            if kind is LENGTH:
                if not value.isdigit() or len(value) > 9:
                    return None
                length = int(value)
            elif kind is CONNECTION:
                closes = CLOSES.get(value.lower())
                if closes is None:
                    return None
                should_close = closes
        pairs.append((spelt, value))
    body_start = end + 4
    if "host" not in seen or len(data) - body_start != length:
        return None
    return PlainRequest(
        line[1].decode("ascii"),
        line[2].decode("ascii"),
        CIMultiDictProxy(CIMultiDict(pairs)),
        data[body_start:],
        should_close,
    )


def _name(name: str) -> tuple[str, str, str]:
    """What `read_plain` needs of a header name: aiohttp's spelling of it, its kind, its lower case (kept for the
    next requests: a client sends the same few names every time)."""
    lower = name.lower()
    kind = NOT_READ if TOKEN.fullmatch(name) is None or lower in NOT_PLAIN else KINDS.get(lower, "")
    known = (KNOWN.get(lower, name), kind, lower)
    if len(NAMES) < MAX_NAMES:
        NAMES[name] = known
    return known
