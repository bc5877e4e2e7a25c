"""mockgw.gateway.bodies: orjson must accept, refuse and write exactly what the standard library does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockgw.gateway.bodies import dumps_compact, loads_strict

# JSON values as requests and answers hold them: any text (surrogates excluded: not Unicode), 64-bit integers,
# floats outside (-1e-4, 1e-4) apart from 0 (the one place orjson's float text differs from json's).
_floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) >= 1e-4)
_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _floats | st.text()
JSON_VALUES = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_dumps_compact_writes_the_standard_librarys_bytes(value: Any) -> None:
    assert dumps_compact(value) == _stdlib(value)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.sampled_from([None, 2]))
def test_loads_strict_reads_what_the_standard_library_reads(value: Any, indent: int | None) -> None:
    data = json.dumps(value, indent=indent, ensure_ascii=indent is None).encode()
    assert loads_strict(data) == json.loads(data)


def test_integers_beyond_64_bits_are_kept_both_ways() -> None:
    big = {"n": 2**70, "m": -(2**64)}
    assert dumps_compact(big) == _stdlib(big)
    assert loads_strict(_stdlib(big)) == big


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"a": "\\ud83d\\ude00"}', {"a": "😀"}),  # a surrogate pair is one character
        (b'{"a": 1e308, "b": 1e-999}', {"a": 1e308, "b": 0.0}),  # in range, and an underflow (serde_json: 0)
    ],
    ids=["surrogate-pair", "double-range"],
)
def test_what_only_the_standard_library_reads_is_still_read(data: bytes, expected: Any) -> None:
    assert loads_strict(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": "\\ud800"}', "unpaired surrogate \\ud800"),
        (b'{"a": "x\\udfff"}', "unpaired surrogate \\udfff"),
        (b'{"a": "\xed\xa0\x80"}', "unpaired surrogate \\ud800"),  # the surrogate written as UTF-8 bytes
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"a": 1,}', "Expecting property name"),
        (b"[" * 129 + b"]" * 129, "nested more than 128 levels deep"),
        # what serde_json (the real gateway's parser) refuses and json.loads would take
        (b'{"a": {"b": [1, -1e400]}}', "the number at 'a.b[1]' is out of range for a 64-bit float"),
        (b'{"n": 1' + b"0" * 400 + b"}", "the number at 'n' is out of range"),
        ('{"a": "é"}'.encode("utf-16"), "the body is UTF-16, not UTF-8"),
        (b'\xef\xbb\xbf{"a": 1}', "a UTF-8 byte order mark starts the body"),
    ],
    ids=[
        "escape",
        "low-escape",
        "utf8-bytes",
        "nan",
        "infinity",
        "trailing-comma",
        "too-deep",
        "1e400",
        "huge-integer",
        "utf-16",
        "bom",
    ],
)
def test_refusals_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        loads_strict(data)
    assert message in str(refused.value)
