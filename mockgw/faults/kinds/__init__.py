"""The fault types, one class in one file each; `faults.registry` finds them all (adding a file adds a type)."""
