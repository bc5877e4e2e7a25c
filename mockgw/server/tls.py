"""TLS for mockgw's own HTTP client (forwarding to an https upstream), and what `mockgw serve` skips at start.

aiohttp builds two client SSL contexts when it is imported (aiohttp/connector.py, so that no coroutine ever
waits on the disk), and each one parses the whole system CA bundle: about 470 M instructions, 40 % of a bare
aiohttp server's start. A server that never connects anywhere pays that for nothing. `mockgw serve` therefore
imports aiohttp with OpenSSL's documented SSL_CERT_FILE pointed at an empty file for the length of that import
(`import_aiohttp_for_serving`), and every client mockgw opens passes its own context (`client_context`), built
with the standard defaults, the environment as it is again, when recording or proxying starts. Certificates are
verified exactly as before; aiohttp's import-time contexts are never used by mockgw, and if anything else used
the verified one it would fail closed (it has no CA file to trust), never accept an unverified peer.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager

CA_FILE_VARIABLE = "SSL_CERT_FILE"  # OpenSSL reads it each time a context loads the default verify paths


@functools.cache
def client_context() -> ssl.SSLContext:
    """The context mockgw's HTTP clients verify upstreams with: Python's defaults (system CAs, SSL_CERT_FILE)."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(("http/1.1",))  # as aiohttp's own default context
    return context


@contextmanager
def _no_default_ca_file() -> Iterator[None]:
    before = os.environ.get(CA_FILE_VARIABLE)
    os.environ[CA_FILE_VARIABLE] = os.devnull
    try:
        yield
    finally:
        if before is None:
            del os.environ[CA_FILE_VARIABLE]
        else:
            os.environ[CA_FILE_VARIABLE] = before


def import_aiohttp_for_serving() -> None:
    """Import aiohttp without loading the CA bundle for its unused default client contexts (`mockgw serve` only).

    Only the command-line server calls this, before anything else imports aiohttp; in a process that already
    did (the pytest plugin's, a user's), it does nothing.
    """
    if "aiohttp" in sys.modules:
        return
    with _no_default_ca_file():
        import aiohttp.connector  # noqa: F401  (the contexts are built by this import)
