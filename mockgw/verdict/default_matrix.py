"""The built-in matrix, as data: a bad day at an AI gateway, one cell per way a client can be hurt.

Each cell strikes the first call its fault applies to (stream faults only touch streamed answers), so a client that
retries gets a clean answer the second time. docs/verdict.md explains each cell.
"""

from __future__ import annotations

from typing import Any

from mockgw.verdict.matrix import Matrix, parse_matrix

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"

DEFAULT_MATRIX_DOCUMENT: dict[str, Any] = {
    "version": 1,
    "cells": [
        {
            "name": "rate-limited-429",
            "description": "429 with Retry-After: 1; a client should wait that long and try again.",
            "fault": {"type": "error", "status": 429, "retry_after": 1},
        },
        {"name": "server-error-500", "fault": {"type": "error", "status": 500}},
        {
            "name": "bad-gateway-html-502",
            "description": "A proxy's HTML page instead of the JSON error envelope.",
            "fault": {"type": "error", "status": 502, "body": HTML_502, "content_type": "text/html"},
        },
        {
            "name": "unavailable-503-twice",
            "description": "503 twice (Retry-After: 0.2), then the answer.",
            "fault": {"type": "error", "status": 503, "retry_after": 0.2},
            "call": "all",
            "times": 2,
        },
        {
            "name": "tpm-rate-limit",
            "description": "A tokens-per-minute limit the request cannot fit (429, Retry-After: 60): waiting a "
            "minute is not an answer, so the client should give up promptly and say so.",
            "rate_limit": {"tokens_per_minute": 1},
            "expect": "fail_fast",
        },
        {"name": "reset-before-headers", "fault": {"type": "reset"}},
        {"name": "close-before-headers", "fault": {"type": "close"}},
        {
            "name": "hang-before-headers",
            "description": "The headers never come: the client needs a timeout of its own.",
            "fault": {"type": "hang"},
        },
        {
            "name": "slow-first-token",
            "description": "The first event comes after 30 s, longer than a client should wait.",
            "fault": {"type": "latency", "ttft_ms": 30000},
        },
        {
            "name": "stall-mid-stream",
            "description": "Two events, then silence.",
            "fault": {"type": "stall", "after_events": 2},
        },
        {"name": "cut-after-3-events", "fault": {"type": "cut", "after_events": 3}},
        {"name": "cut-mid-event", "fault": {"type": "cut_mid_event", "at_event": 3}},
        {"name": "malformed-event", "fault": {"type": "malformed", "at_event": 3}},
        {
            "name": "error-event",
            "fault": {
                "type": "error_event",
                "at_event": 3,
                "code": "provider_error",
                "message": "The upstream provider failed mid-stream.",
                "error_type": "provider_error",
            },
        },
        {"name": "no-done", "fault": {"type": "no_done"}},
        {"name": "no-finish-reason", "fault": {"type": "no_finish_reason"}},
        {
            "name": "keepalive-comments",
            "description": "`: keep-alive` comments between events: harmless, the client must ignore them.",
            "fault": {"type": "keepalive", "every_events": 1},
        },
        {"name": "garbage-bytes", "fault": {"type": "garbage", "size": 64}},
    ],
}


def default_matrix() -> Matrix:
    """The built-in matrix, checked like a matrix file."""
    return parse_matrix(DEFAULT_MATRIX_DOCUMENT, "<default matrix>")
