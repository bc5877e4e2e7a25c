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
        ('{"a": "é"}'.encode("utf-16"), {"a": "é"}),  # json.loads detects UTF-16/32 (orjson takes UTF-8 only)
        (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),  # a UTF-8 byte order mark
        (b'{"a": 1e400}', {"a": float("inf")}),  # beyond double range: json.loads reads infinity
        (b'{"a": "\\ud83d\\ude00"}', {"a": "😀"}),  # a surrogate pair is one character
    ],
    ids=["utf-16", "bom", "1e400", "surrogate-pair"],
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
    ],
    ids=["escape", "low-escape", "utf8-bytes", "nan", "infinity", "trailing-comma", "too-deep"],
)
def test_refusals_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        loads_strict(data)
    assert message in str(refused.value)
