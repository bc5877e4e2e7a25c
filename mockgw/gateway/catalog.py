"""The model catalog and the gateway's model-id rules (bad_model_id, model_not_found, provider_not_supported)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from typing import Any

from mockgw.core.errors import ApiError, invalid_request
from mockgw.core.frozen import frozen


@frozen
class Model:
    """A catalog entry: `id` is `author/name`; the first provider is the one that serves by default."""

    id: str
    created: int
    providers: tuple[str, ...]

    @property
    def author(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.author}


@frozen
class Resolved:
    """A model id resolved against the catalog, with the provider that serves it."""

    model: Model
    provider: str


def _m(model_id: str, created: int, *providers: str) -> Model:
    return Model(model_id, created, providers)


# A realistic slice of the real catalog (ids seen in Edgee material), overridable with `models:` in the config.
DEFAULT_MODELS: tuple[Model, ...] = (
    _m("openai/gpt-5.2", 1765238400, "openai", "azure"),
    _m("openai/gpt-5.2-mini", 1765238400, "openai", "azure"),
    _m("openai/gpt-4.1", 1744675200, "openai", "azure"),
    _m("openai/gpt-4o", 1715367049, "openai", "azure"),
    _m("openai/gpt-4o-mini", 1721172741, "openai", "azure"),
    _m("anthropic/claude-opus-4-6", 1770249600, "anthropic", "bedrock", "vertex"),
    _m("anthropic/claude-sonnet-4-6", 1771459200, "anthropic", "bedrock", "vertex"),
    _m("anthropic/claude-sonnet-4.5", 1759104000, "anthropic", "bedrock", "vertex"),
    _m("anthropic/claude-haiku-4-5", 1760572800, "anthropic", "bedrock", "vertex"),
    _m("google/gemini-2.5-pro", 1750118400, "google", "vertex"),
    _m("google/gemini-2.5-flash", 1750118400, "google", "vertex"),
    _m("mistral/mistral-large-latest", 1731542400, "mistral"),
    _m("mistral/devstral2", 1765238400, "mistral"),
    _m("deepseek/deepseek-chat", 1735689600, "deepseek", "together", "fireworks"),
    _m("xai/grok-4", 1752192000, "xai"),
    _m("moonshot/kimi-k3", 1772323200, "moonshot", "together", "groq"),
    _m("meta/llama-4-maverick", 1743811200, "together", "fireworks", "groq", "deepinfra"),
    _m("cursor/composer-2", 1772323200, "cursor"),
)

_ID = re.compile(r"^(?:(?P<author>[A-Za-z0-9][\w.-]*)/)?(?P<name>[A-Za-z0-9][\w.-]*)(?::(?P<provider>[\w.-]+))?$")


RESOLVED_KEPT = 1024  # model ids whose resolution is kept (ids come from requests: bounded)


@frozen
class Catalog:
    """The models the gateway serves, indexed for resolution."""

    models: tuple[Model, ...]
    # by id, built once: resolve() looks a model up on every request
    _by_id: Mapping[str, Model] = field(init=False, repr=False, compare=False)
    # ids resolved so far (a pure function of the catalog): a suite asks for the same few models again and again
    _resolved: dict[str, Resolved] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {m.id: m for m in self.models})
        object.__setattr__(self, "_resolved", {})

    @classmethod
    def from_config(cls, entries: Iterable[Mapping[str, Any]] | None) -> Catalog:
        """A catalog from config `models:` entries (`{id, providers?, created?}`), or the default one."""
        if entries is None:
            return cls(DEFAULT_MODELS)
        models = []
        for entry in entries:
            model_id = str(entry["id"])
            author = model_id.split("/", 1)[0]
            providers = tuple(entry.get("providers") or (author,))
            models.append(Model(model_id, int(entry.get("created", 1700000000)), providers))
        return cls(tuple(models))

    def by_id(self) -> Mapping[str, Model]:
        return self._by_id

    def list_json(self) -> dict[str, Any]:
        """The body of `GET /v1/models`."""
        return {"object": "list", "data": [m.as_json() for m in self.models]}

    def resolve(self, model_id: object) -> Resolved | ApiError:
        """Resolve `author/model[:provider]` or a bare `model[:provider]` the way the gateway does."""
        text = model_id if isinstance(model_id, str) else ""
        known = self._resolved.get(text)
        if known is not None:
            return known
        resolved = self._resolve(text)
        if isinstance(resolved, Resolved) and len(self._resolved) < RESOLVED_KEPT:
            self._resolved[text] = resolved
        return resolved

    def _resolve(self, text: str) -> Resolved | ApiError:
        found = _ID.match(text)
        if found is None:
            return invalid_request(f"Invalid model ID: '{text}'", "model", code="bad_model_id")
        author, name, provider = found.group("author"), found.group("name"), found.group("provider")
        if author is None:
            matches: Sequence[Model] = [m for m in self.models if m.name == name]
            if len(matches) != 1:
                return invalid_request(f"Invalid model ID: '{text}'", "model", code="bad_model_id")
            model = matches[0]
        else:
            lookup = self.by_id().get(f"{author}/{name}")
            if lookup is None:
                return invalid_request(f"Model '{author}/{name}' not found", "model", code="model_not_found")
            model = lookup
        if provider is not None and provider not in model.providers:
            return invalid_request(
                f"Provider '{provider}' is not supported for model '{model.id}'",
                "model",
                code="provider_not_supported",
            )
        return Resolved(model, provider or model.providers[0])
