"""Sending the drift probes to the upstream and to mockgw (the HTTP half of `mockgw drift`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp

from mockgw.record.drift import Answer, Probe
from mockgw.server import tls


async def _send(session: aiohttp.ClientSession, root: str, probe: Probe, key: str) -> Answer:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with session.request(
        probe.method, root.rstrip("/") + probe.path, json=probe.body, headers=headers
    ) as response:
        body = await response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, body)


async def probe_both(
    upstream: str, mock: str, probes: Sequence[Probe], upstream_key: str, mock_key: str
) -> list[tuple[Probe, Answer, Answer]]:
    """Each probe to the upstream, then to mockgw, one at a time (the upstream may rate-limit)."""
    timeout = aiohttp.ClientTimeout(total=120)
    results = []
    connector = aiohttp.TCPConnector(ssl=tls.client_context())  # see server/tls.py
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for probe in probes:
            up = await _send(session, upstream, probe, upstream_key)
            ours = await _send(session, mock, probe, mock_key)
            results.append((probe, up, ours))
    return results


def run(
    upstream: str, mock: str, probes: Sequence[Probe], upstream_key: str, mock_key: str = "sk-mockgw-drift"
) -> list[tuple[Probe, Answer, Answer]]:
    """`probe_both` from synchronous code (the command line)."""
    return asyncio.run(probe_both(upstream, mock, probes, upstream_key, mock_key))
