"""The JSON Schema of faults, as data derived from the fault registry: fixtures' `reply.fault`/`reply.error` and
fault rules' `fault` use it (`fixtures.schema`, written to schemas/fixture.schema.json by `make schemas`)."""

from __future__ import annotations

from typing import Any

from mockgw.faults.kinds.error import ERROR
from mockgw.faults.registry import REGISTRY, kinds_of, schema_of
from mockgw.faults.timing import DISTRIBUTION, MS

__all__ = ["DISTRIBUTION", "ERROR", "FAULT", "FAULT_TYPES", "MS", "RULE_FAULT"]

# Each fault type's own schema: the branches of the oneOfs below (the explainer reports inside the one `type` names).
FAULT_TYPES: dict[str, dict[str, Any]] = {kind: schema_of(cls) for kind, cls in REGISTRY.items()}

# A fixture reply's `fault`: the connection and stream faults (the file schema's `$defs/fault`).
FAULT: dict[str, Any] = {
    "description": "A connection or stream fault (see docs/faults.md).",
    "oneOf": [FAULT_TYPES[kind] for kind in kinds_of("connection", "stream")],
}

# A fault rule's `fault`: those, and the faults only rules give (an error answer, latency).
RULE_FAULT: dict[str, Any] = {
    "oneOf": [{"$ref": "#/$defs/fault"}, *(FAULT_TYPES[kind] for kind in kinds_of("answer"))],
}
