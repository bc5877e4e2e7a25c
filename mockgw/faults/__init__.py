"""The fault catalogue: what can go wrong, its timing, and the plan for a faulted stream."""
