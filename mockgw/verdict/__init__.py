"""Resilience verdict: run a client under a matrix of faults and say, from the evidence, which it survives."""
