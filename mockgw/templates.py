"""Reply templates: `{{ name }}` placeholders in fixture text, parsed at load and rendered per request.

The whole syntax: `{{ name }}` inserts a value (whitespace inside the braces is optional); `{{ 'text' }}` inserts
the quoted text as it is (the way to write a literal `{{`). Names are regex captures of the fixture's `match`
(`(?P<city>...)`) and the request values in `REQUEST_NAMES`. Pure: no I/O, no state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mockgw.frozen import frozen

# The names every template can use, whatever the fixture matches on.
REQUEST_NAMES = ("request.model", "request.tags", "request.endpoint", "tool_result", "last_user_message")

_PLACEHOLDER = re.compile(r"\{\{\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|'(?P<literal>[^']*)')\s*\}\}")


class TemplateError(ValueError):
    """A template that cannot be parsed or names something unknown; the message says which and how to fix."""


@frozen
class Placeholder:
    name: str


@frozen
class Template:
    """Text split into literal pieces and placeholders."""

    parts: tuple[str | Placeholder, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts if isinstance(p, Placeholder))

    def render(self, values: Mapping[str, str]) -> str:
        """The text with every placeholder replaced (a name without a value renders as "")."""
        return "".join(p if isinstance(p, str) else values.get(p.name, "") for p in self.parts)


def has_placeholders(text: str) -> bool:
    return "{{" in text


def parse(text: str, known: Iterable[str]) -> Template:
    """The template of `text`; raises TemplateError for a malformed placeholder or an unknown name."""
    allowed = set(known) | set(REQUEST_NAMES)
    parts: list[str | Placeholder] = []
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            break
        found = _PLACEHOLDER.match(text, start)
        if found is None:
            snippet = text[start : start + 30]
            raise TemplateError(
                f"malformed placeholder at {snippet!r}: write {{{{ name }}}}, or {{{{ '{{{{' }}}} for a literal '{{{{'"
            )
        if start > position:
            parts.append(text[position:start])
        if found.group("name") is not None:
            name = found.group("name")
            if name not in allowed:
                raise TemplateError(
                    f"unknown template name {name!r}; known here: {', '.join(sorted(allowed))} "
                    "(named regex captures of this fixture's match, and the request values)"
                )
            parts.append(Placeholder(name))
        else:
            parts.append(found.group("literal"))
        position = found.end()
    if position < len(text):
        parts.append(text[position:])
    return Template(tuple(parts))


@frozen
class JsonTemplate:
    """A JSON value whose strings may hold placeholders; renders to JSON text that is always valid."""

    value: Any  # JSON data with Template objects in place of the templated strings

    def render(self, values: Mapping[str, str]) -> str:
        return json.dumps(_render_json(self.value, values), ensure_ascii=False)


def _parse_json(value: Any, known: Iterable[str], path: str) -> tuple[Any, bool]:
    if isinstance(value, str):
        if not has_placeholders(value):
            return value, False
        try:
            return parse(value, known), True
        except TemplateError as exc:
            raise TemplateError(f"{path}: {exc}" if path else str(exc)) from None
    if isinstance(value, Mapping):
        items = {k: _parse_json(v, known, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(t for _, t in items.values())
    if isinstance(value, list):
        elements = [_parse_json(v, known, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in elements], any(t for _, t in elements)
    return value, False


def parse_json(value: Any, known: Iterable[str]) -> JsonTemplate | None:
    """The template of a JSON value (placeholders inside string values), or None when it has none."""
    known = tuple(known)
    parsed, templated = _parse_json(value, known, "")
    return JsonTemplate(parsed) if templated else None


def _render_json(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, Template):
        return value.render(values)
    if isinstance(value, dict):
        return {k: _render_json(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(v, values) for v in value]
    return value


def capture_names(patterns: Iterable[re.Pattern[str]]) -> frozenset[str]:
    """The named groups of the regexes a fixture matches with: the capture names its templates may use."""
    return frozenset(name for pattern in patterns for name in pattern.groupindex)
