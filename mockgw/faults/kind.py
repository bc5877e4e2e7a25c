"""What a fault type is: the base class each file of `faults/kinds/` subclasses once (see `registry.py`).

A fault type declares its `kind` (the YAML `type:`), its `scope`, its parameters (dataclass fields whose metadata
comes from `param`, each with its JSON Schema), a `description` (the schema's and the docs table's text) and
whether the client still gets a whole answer (`completes`). What it does is said by overriding the hooks below:
`abort` (end the exchange before any response), `pieces` (split what is written), `plan` (rework a stream's
events) and `resolve` (draw its random parts). The injector only calls the hooks; it never asks which fault it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from typing import Any, ClassVar, Literal, Self

from mockgw.core.codec import StreamCodec
from mockgw.core.frozen import frozen
from mockgw.faults.plan import Part, StreamPlan
from mockgw.faults.timing import Drawn, Fixed, LogNormal, Uniform

Scope = Literal["connection", "stream", "answer"]
# connection: at the socket, on any answer; stream: only streamed answers; answer: fault rules only (it replaces or
# retimes the answer itself). The order is the docs table's and the schema's.
SCOPES: tuple[Scope, ...] = ("connection", "stream", "answer")

# Parameter schemas several stream faults share.
EVENT: dict[str, Any] = {"type": "integer", "minimum": 1, "description": "Events count from 1 (the role chunk)."}
EVENTS: dict[str, Any] = {"type": "integer", "minimum": 0, "description": "A number of events."}


def param(
    schema: Mapping[str, Any], *, wire: str | None = None, parse: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """The metadata that makes a dataclass field a parameter: its JSON Schema, its key in YAML/JSON when that is not
    the field's name, and how to read a (schema-checked) value. Fields without it are internal."""
    return {"schema": dict(schema), "wire": wire, "parse": parse}


@frozen
class Param:
    """One parameter of a fault type, as the schema and the docs show it."""

    name: str  # the key in YAML/JSON
    attr: str  # the dataclass field
    schema: Mapping[str, Any]
    required: bool
    default: Any = None
    parse: Callable[[Any], Any] | None = None


@frozen
class Abort:
    """The exchange ends before any response: `data` is written, then `ending` (`reset` or `close`), or the answer
    `hang`s until the client leaves, a release, or the server stops."""

    ending: Literal["reset", "close", "hang"]
    data: bytes = b""


class FaultKind:
    """A fault type (subclass it once in a new file of `faults/kinds/`, decorated with `@frozen`)."""

    __slots__ = ()

    kind: ClassVar[str]
    scope: ClassVar[Scope]
    description: ClassVar[str]
    completes: ClassVar[bool] = False  # the client still received a whole answer (the journal's `completed`)

    @classmethod
    def params(cls) -> tuple[Param, ...]:
        """The parameters, in declaration order (fields without `param` metadata are internal)."""
        found = []
        for f in fields(cls):  # type: ignore[arg-type]
            if "schema" not in f.metadata:
                continue
            required = f.default is MISSING and f.default_factory is MISSING
            default = None if f.default is MISSING else f.default
            found.append(
                Param(
                    f.metadata["wire"] or f.name, f.name, f.metadata["schema"], required, default, f.metadata["parse"]
                )
            )
        return tuple(found)

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any]) -> Self:
        """The fault from its spec (`{type: ..., ...}`, already checked against the schema)."""
        values = {}
        for p in cls.params():
            if p.name in raw:
                values[p.attr] = p.parse(raw[p.name]) if p.parse else raw[p.name]
        return cls(**values)

    def applies(self, stream: bool) -> bool:
        """Stream faults only touch streamed answers; every other fault applies to any answer."""
        return stream or self.scope != "stream"

    def resolve(self, rng: random.Random) -> Self:
        """The fault with its random parts drawn from the answer's seeded generator (most have none)."""
        return self

    def abort(self) -> Abort | None:
        """How the exchange ends before any response byte, if this fault ends it there."""
        return None

    def pieces(self, data: bytes) -> tuple[Part, ...] | None:
        """`data` (a body, or one event) as the pieces to write with their waits; None writes it whole."""
        return None

    def plan(self, parts: list[Part], drawn: Drawn, codec: StreamCodec) -> StreamPlan:
        """A stream's timed events after this fault's work (`codec`: the wire format's stream vocabulary)."""
        return StreamPlan(tuple(parts))

    def describe(self) -> dict[str, Any]:
        """The fault as the journal and the control endpoint show it: its spec, internal bytes as their length."""
        data: dict[str, Any] = {"type": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            name = f.metadata.get("wire") or f.name
            if isinstance(value, bytes):
                data[name] = len(value)
            elif isinstance(value, Fixed | Uniform | LogNormal):
                data[name] = {type(value).__name__.lower(): {g.name: getattr(value, g.name) for g in fields(value)}}
            elif value is not None:
                data[name] = value
        return data
