"""A recording file: fixtures added capture by capture (repeats become a `replies:` list), rendered as YAML only
after the secret scan passed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from mockgw.core.errors import MockgwError
from mockgw.record.secrets import Finding, scan

HEADER = "# Recorded by mockgw (issue 14). Edit freely: delete a reply's `recorded:` to answer with its fields.\n"


class SecretFound(MockgwError):
    """The document holds something key-shaped: it is not written."""

    def __init__(self, source: str, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        places = "; ".join(str(f) for f in findings[:5])
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        super().__init__(
            f"{source}: refusing to write a key-shaped value: {places}{more}. "
            "Add a `redact:` rule (header, body path or pattern) for it."
        )


def _replies(fixture: Mapping[str, Any]) -> list[Any]:
    return list(fixture["replies"]) if "replies" in fixture else [fixture["reply"]]


def add(fixtures: Sequence[Mapping[str, Any]], fixture: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The fixtures with `fixture` added: to the replies of one with the same match, else under a unique name."""
    result = [dict(f) for f in fixtures]
    for index, existing in enumerate(result):
        if existing.get("match") == fixture.get("match"):
            replies = [*_replies(existing), fixture["reply"]]
            result[index] = {k: v for k, v in existing.items() if k not in ("reply", "replies")} | {"replies": replies}
            return result
    names = {f.get("name") for f in result}
    name, number = str(fixture["name"]), 2
    while name in names:
        name, number = f"{fixture['name']}-{number}", number + 1
    result.append({**fixture, "name": name})
    return result


class _Dumper(yaml.SafeDumper):
    """Block style everywhere; long strings stay on one line (exact bytes, escaped where needed)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def document(fixtures: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"version": 1, "fixtures": [dict(f) for f in fixtures]}


def render(
    fixtures: Iterable[Mapping[str, Any]], source: str, literals: Iterable[str] = (), header: str = HEADER
) -> str:
    """The YAML text of a fixture file; raises SecretFound (naming each place) instead of rendering a secret."""
    doc = document(fixtures)
    findings = scan(doc, literals)
    if findings:
        raise SecretFound(source, findings)
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000)
    return header + text
