"""Provider fallback: which provider answers, and whether the gateway says it fell back.

The gateway retries the primary provider, then tries each fallback provider, all before the first stream event;
after it, errors reach the client as they are (docs: retry-and-fallback). mockgw decides the route once, before
anything is sent, so a stream that breaks later is never retried.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from mockgw.core.errors import ApiError, gateway_error
from mockgw.core.frozen import frozen
from mockgw.gateway.catalog import Resolved

USED_HEADER = "X-Edgee-Fallback-Used"
PROVIDER_HEADER = "X-Edgee-Provider"


@frozen
class Route:
    """The provider that answers, the model reported, and why (None: the primary answered)."""

    provider: str
    model: str | None = None  # None: the model the request named
    reason: str | None = None  # "fixture", "rule '<name>'" or "outage of <provider>"

    @property
    def fallback_used(self) -> bool:
        return self.reason is not None

    def headers(self) -> dict[str, str]:
        """The 200 response headers: the provider used, and `X-Edgee-Fallback-Used: 1` after a fallback."""
        if self.reason is None:  # the primary answered (not `fallback_used`: no property call per request)
            return {PROVIDER_HEADER: self.provider}
        return {PROVIDER_HEADER: self.provider, USED_HEADER: "1"}

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "fallback_used": self.reason is not None,  # fallback_used
            "reason": self.reason,
        }


@functools.lru_cache(maxsize=256)
def _primary(provider: str) -> Route:
    return Route(provider)  # the usual route, one per provider (frozen)


def _next_provider(resolved: Resolved, down: Sequence[str]) -> str | None:
    """The first provider of the model's catalog entry, after the primary, that is not down."""
    providers = resolved.model.providers
    start = providers.index(resolved.provider) if resolved.provider in providers else 0
    for provider in (*providers[start + 1 :], *providers[:start]):
        if provider not in down and provider != resolved.provider:
            return provider
    return None


def route(
    resolved: Resolved,
    outages: Sequence[str],
    scripted: Mapping[str, Any] | None = None,
    source: str = "fixture",
) -> Route | ApiError:
    """Where the request goes: a scripted fallback ({provider?, model?}), an outage's fallback, or the primary.

    A scripted fallback without a provider takes the next provider serving the model (the primary again when it
    has no other). With every provider of the model in `outages`: 502 provider_error, as after spent fallbacks."""
    if scripted is not None:
        provider = scripted.get("provider") or _next_provider(resolved, outages) or resolved.provider
        return Route(str(provider), scripted.get("model"), source)
    if resolved.provider not in outages:
        return _primary(resolved.provider)
    provider = _next_provider(resolved, outages)
    if provider is None:
        tried = ", ".join(resolved.model.providers)
        return gateway_error(
            502,
            "provider_error",
            f"Every provider of model '{resolved.model.id}' failed ({tried}: simulated outage); "
            "no fallback is left. Remove them from `outages` or pick a model another provider serves.",
        )
    return Route(provider, None, f"outage of {resolved.provider}")
