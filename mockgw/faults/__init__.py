"""Faults: the registry of fault types (`kinds/`, one file each), their JSON Schema, waits and stream plans."""
