"""The budget of one generated answer: how many bytes it may hold and how many values it may take to make.

A client's schema decides how big a generated answer is (`minItems: 1000000`, `pattern: "a{1000000}"`, a `$ref`
that recurses through required properties). Generation runs on the server's event loop, so an answer past
either cap is refused (a 400 naming the schema path and the limit) instead of stalling every other request.
Where a smaller valid value exists (an upper bound like `maxLength` or `a{0,1000000}`), it is sent instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from mockgw.core.errors import ApiError, invalid_request
from mockgw.core.frozen import frozen

DEFAULT_MAX_BYTES = 1024 * 1024  # bytes of one generated answer (JSON content or one tool call's arguments)
DEFAULT_MAX_VALUES = 5_000  # JSON values built for one answer, every draw included (bounds the work: ~100 ms)
MAX_STREAM_EVENTS = 2_000  # events of one streamed answer at most (a huge answer sends more tokens per event)
CODE = "answer_too_large"


@frozen
class Limits:
    """The caps of one answer (the `max_answer_bytes` setting and a fixed work cap)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_values: int = DEFAULT_MAX_VALUES


class BudgetExceeded(Exception):
    """A generated answer would break a cap: `path` is where in the client's schema, `limit` which cap."""

    def __init__(self, path: Sequence[str | int], limit: str, detail: str) -> None:
        super().__init__(detail)
        self.path = tuple(path)
        self.limit = limit
        self.detail = detail
        self.prefix = ""  # where the schema sits in the request (e.g. `tools[0].function.parameters`)

    def error(self) -> ApiError:
        """The 400 the client gets."""
        param = join_path(self.prefix, self.path)
        return invalid_request(
            f"mockgw cannot generate an answer for the schema at '{param}': {self.detail}. "
            f"Generated answers are capped at {self.limit} (see docs/generation.md, 'Limits'); "
            "loosen the schema, or script the answer with a fixture.",
            param,
            code=CODE,
        )


def join_path(prefix: str, path: Sequence[str | int]) -> str:
    """`prefix` followed by the schema keys, dotted (array indexes in brackets)."""
    out = prefix
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class Budget:
    """What one answer has used so far: bytes (an estimate of the JSON size) and values built."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.bytes = 0
        self.values = 0

    @property
    def bytes_left(self) -> int:
        return self.limits.max_bytes - self.bytes

    def ensure(self, path: Sequence[str | int], need: int, what: str) -> None:
        """Refuse before building when `need` bytes at the least would go past the byte cap."""
        if need > self.bytes_left:
            raise BudgetExceeded(path, f"{self.limits.max_bytes} bytes", f"{what} needs at least {need} bytes")

    def spend(self, path: Sequence[str | int], size: int) -> None:
        """Count one value of about `size` bytes."""
        self.values += 1
        self.bytes += size
        if self.values > self.limits.max_values:
            raise BudgetExceeded(
                path,
                f"{self.limits.max_values} values built per answer",
                "the schema asks for more values than the work cap allows (large minItems/minProperties, "
                "a recursive $ref through required properties, or uniqueItems with too few possible values)",
            )
        if self.bytes > self.limits.max_bytes:
            raise BudgetExceeded(
                path, f"{self.limits.max_bytes} bytes", f"the answer grows past {self.limits.max_bytes} bytes"
            )

    def new_draw(self) -> None:
        """Start another draw of the whole value: its bytes start again, the work spent stays spent."""
        self.bytes = 0
