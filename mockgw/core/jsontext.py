"""Compact JSON text as every answer writes it: `json.dumps(value, separators=(",", ":"), ensure_ascii=False)`.

orjson writes those bytes for what answers hold (strings, integers, `created_at`-sized floats; it would write floats
below 1e-4 as `0.00001` where json writes `1e-05`), several times faster (docs/bench.md); what it refuses (integers
beyond 64 bits, unpaired surrogates) goes to the standard library.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps_compact(value: Any) -> bytes:
    """`json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()`, for rendered answers."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _ENCODE(value).encode()
