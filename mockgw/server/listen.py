"""The listening socket for an IP address, bound here rather than by the event loop.

Given a host name, the loop resolves it before binding: uvloop sends that `getaddrinfo` to libuv's thread pool,
which starts its four worker threads for it (and imports the `idna` codec), about 1 ms of a server's start-up for
an address that needs no resolving. For an IP literal (the default 127.0.0.1, 0.0.0.0, ::1...) mockgw binds the
socket itself, with the options asyncio's and uvloop's `create_server` set (SO_REUSEADDR, IPV6_V6ONLY on IPv6),
and the same error when the address is taken; a host name still goes to the loop.
"""

from __future__ import annotations

import socket


def family_of(host: str) -> socket.AddressFamily | None:
    """AF_INET or AF_INET6 for an IP literal (without an IPv6 scope), None for anything to resolve."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return family
    return None


def authority(host: str, port: int) -> str:
    """`host:port` as a URL writes it: an IPv6 address in brackets (`[::1]:8080`)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bound(host: str, port: int) -> socket.socket | None:
    """A TCP socket bound to `host`:`port` (not yet listening), or None when `host` is not an IP literal."""
    family = family_of(host)
    if family is None:
        return None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        address = (host, port)
        try:
            sock.bind(address)
        except OSError as exc:  # worded as the loop's create_server words it
            raise OSError(
                exc.errno, f"error while attempting to bind on address {address!r}: {str(exc.strerror).lower()}"
            ) from None
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
