"""The call journal: one Call per request, its filters and its bounded store."""
