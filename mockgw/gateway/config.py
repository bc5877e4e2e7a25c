"""Settings: one frozen value resolved once (defaults < config file < environment < command-line flags).

This is the only module that reads the environment.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs

from mockgw.core import explain
from mockgw.core.errors import ConfigError
from mockgw.core.explain import Problem
from mockgw.core.frozen import frozen
from mockgw.core.names import TRUE_WORDS
from mockgw.fixtures.check import match_issues
from mockgw.fixtures.load import read_yaml
from mockgw.fixtures.schema import FAULT_RULE, FILE_SCHEMA
from mockgw.gateway import edge_tools
from mockgw.gateway.auth import KEY_STATES, ApiKey
from mockgw.gateway.catalog import Catalog
from mockgw.gateway.conversation_rules import RULE_NAMES

CONTROL_TOKEN_ENV = "MOCKGW_CONTROL_TOKEN"  # read by `serve` (the token it requires) and by its clients

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mockgw.dev/schemas/config.schema.json",
    "title": "mockgw configuration file",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "seed": {"type": "integer", "description": "Drives every random choice (ids, text, faults, jitter)."},
        "strict": {"type": "boolean", "description": "Unmatched requests get 404 no_matching_fixture."},
        "fixtures": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Files or folders, relative to this file.",
        },
        "max_body_bytes": {"type": "integer", "minimum": 1},
        "journal_limit": {"type": "integer", "minimum": 1, "description": "Calls kept in the journal."},
        "journal_max_bytes": {
            "type": "integer",
            "minimum": 1,
            "description": "Request and response bytes the journal keeps at most (oldest calls dropped first).",
        },
        "session_limit": {
            "type": "integer",
            "minimum": 1,
            "description": "Named sessions kept at most; past it the least recently used is dropped (default 10000).",
        },
        "session_idle_s": {
            "type": "number",
            "minimum": 0,
            "description": "A named session unused this many seconds is dropped (default 3600; 0: never).",
        },
        "generated_words": {"type": "integer", "minimum": 1, "description": "Length of generated answers."},
        "ui_write": {
            "type": "boolean",
            "description": "Let the web inspector change state: release holds, delete fault rules, reset.",
        },
        "control_token": {
            "type": "string",
            "minLength": 1,
            "description": "Require `Authorization: Bearer <token>` on the control endpoint (/__mockgw/).",
        },
        "watchdog_ms": {
            "type": "integer",
            "minimum": 0,
            "description": "Report a step that holds the event loop longer than this (0: no watchdog).",
        },
        "max_answer_bytes": {
            "type": "integer",
            "minimum": 1024,
            "description": "Bytes one generated answer may hold (JSON content, tool arguments); past it, a 400.",
        },
        "header_timeout_s": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Seconds a connection has to send a whole request head (from its accept, or from the first "
            "byte of a later request); past it the connection is closed (slowloris).",
        },
        "idle_timeout_s": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Seconds an idle keep-alive connection is kept open between two requests.",
        },
        "max_connections": {
            "type": "integer",
            "minimum": 1,
            "description": "Connections served at once; past it a new connection's request gets 503 "
            "too_many_connections.",
        },
        "fast_path": {
            "type": "boolean",
            "description": "Write plain answers from the connection itself (the same bytes, less work); false sends "
            "every request through aiohttp's handler.",
        },
        "stream_usage": {
            "enum": ["final_chunk", "separate_chunk"],
            "description": "Where streamed usage goes: in the finish chunk (Edgee's example) or a choices:[] chunk.",
        },
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[^/]+/[^/:]+$"},
                    "providers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "created": {"type": "integer"},
                },
            },
        },
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key"],
                "properties": {
                    "key": {"type": "string", "minLength": 1},
                    "state": {"enum": list(KEY_STATES)},
                    "models": {"type": "array", "items": {"type": "string"}},
                    "rate_limit": {"$ref": "#/$defs/rate_limit"},
                    "edgee_tool_ids": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Edge Tools activated for this key (default: every tool of `edgee_tools`).",
                    },
                },
            },
        },
        "rate_limit": {"$ref": "#/$defs/rate_limit"},
        "edgee_tools": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
            "description": "The Edge Tool catalog (default: edgee_current_time, edgee_generate_uuid).",
        },
        "outages": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Providers that are down: their models fall back to the next provider serving them.",
        },
        "clock": {
            "type": "string",
            "format": "date-time",
            "description": "Fix the gateway clock (Edge Tools, `created`) at this ISO 8601 time.",
        },
        "faults": {"type": "array", "items": FAULT_RULE, "description": "Fault rules (see docs/faults.md)."},
        "conversation_rules": {
            "description": "Refuse conversations real providers refuse (unanswered tool calls, unknown tool_call_id, "
            "tool_choice naming a tool not offered, duplicate tool names): true, false, or per rule.",
            "oneOf": [
                {"type": "boolean"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {name: {"type": "boolean"} for name in RULE_NAMES},
                },
            ],
        },
    },
    "$defs": {
        "fault": FILE_SCHEMA["$defs"]["fault"],
        "rate_limit": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "requests_per_minute": {"type": "integer", "minimum": 1},
                "tokens_per_minute": {"type": "integer", "minimum": 1},
            },
        },
    },
}


@functools.cache
def _config_validator() -> Any:
    """Compiled on first use, so that importing mockgw stays fast."""
    return jsonschema_rs.validator_for(CONFIG_SCHEMA)


@frozen
class Settings:
    """Everything that shapes a server's behaviour."""

    host: str = "127.0.0.1"
    port: int = 8080
    fixtures: tuple[str, ...] = ()
    seed: int = 0
    strict: bool = False
    max_body_bytes: int = 4 * 1024 * 1024
    journal_limit: int = 1000
    journal_max_bytes: int = 64 * 1024 * 1024
    session_limit: int = 10_000  # named sessions kept (gateway/sessions.py; the least recently used dropped first)
    session_idle_s: float = 3600.0  # a named session unused this long is dropped; 0: never
    generated_words: int = 24
    max_answer_bytes: int = 1024 * 1024  # a generated answer's cap (answers/budget.py)
    # Connections (server/connections.py): far above what a test suite or a 1,000-stream load needs.
    header_timeout_s: float = 20.0  # to send a whole request head, else closed (slowloris)
    idle_timeout_s: float = 75.0  # an idle keep-alive connection is closed after it (nginx's default)
    max_connections: int = 4096  # served at once; more get 503 too_many_connections
    fast_path: bool = True  # plain answers written by the connection itself (server/fast.py): the same bytes
    stream_usage: str = "final_chunk"
    catalog: Catalog = field(default_factory=lambda: Catalog.from_config(None))
    keys: tuple[ApiKey, ...] = ()
    rate_limit: Mapping[str, int] = field(default_factory=dict)
    faults: tuple[Mapping[str, Any], ...] = ()
    conversation_rules: tuple[str, ...] = RULE_NAMES  # the conversation rules enforced (rules.RULES names)
    ui_write: bool = False  # the web inspector may change state (release holds, delete fault rules, reset)
    edgee_tools: tuple[str, ...] = edge_tools.DEFAULT_IDS  # the Edge Tool catalog
    outages: tuple[str, ...] = ()  # providers simulated as down
    clock: float | None = None  # a fixed gateway time (Unix seconds); None: the real time
    log_requests: bool = False  # one line per call on the "mockgw.requests" logger (serve prints it on stdout)
    # the bearer token the control endpoint requires (None: none); never shown in a repr
    control_token: str | None = field(default=None, repr=False)
    watchdog_ms: int = 100  # a step holding the event loop longer than this is a problem (0: no watchdog)


CONFIG_KEYS = frozenset(CONFIG_SCHEMA["properties"])


def config_problems(document: Any, source: str) -> list[Problem]:
    """Every mistake of a config document: its schema's, and those of its fault rules beyond their schema."""
    if document is None:
        return []  # an empty file: every default
    if not isinstance(document, Mapping):
        return [Problem(source, "", f"a config file is a mapping of settings ({', '.join(sorted(CONFIG_KEYS))})")]
    issues = explain.check(_config_validator(), CONFIG_SCHEMA, document)
    if isinstance(document.get("clock"), str):
        try:
            parse_clock(document["clock"])
        except ConfigError as exc:  # said here too, so that `mockgw check` and the file's other mistakes show it
            issues.append(explain.Issue(("clock",), str(exc).removeprefix("clock: ")))
    rules: list[Any] = document["faults"] if isinstance(document.get("faults"), list) else []
    for index, rule in enumerate(rules):
        if isinstance(rule, Mapping):
            issues += match_issues(rule.get("match"), ("faults", index, "match"))
    problems: list[Problem] = []
    for issue in issues:
        # a mistake inside a named fault rule names the rule, as the rules sent at run time do
        at = issue.path[1] if issue.path[:1] == ("faults",) and len(issue.path) > 2 else None
        rule = rules[at] if isinstance(at, int) else None
        name = rule.get("name") if isinstance(rule, Mapping) else None
        if isinstance(name, str) and name:
            problems += explain.problems_of(source, [issue], name, 2, "fault rule")
        else:
            problems += explain.problems_of(source, [issue])
    return problems


def read_config(path: str | Path) -> dict[str, Any]:
    """A config file checked against the config schema; raises ConfigError with every mistake, each as
    `file: path: message`."""
    path = Path(path)
    document, problems = read_yaml(path)
    problems = problems or config_problems(document, str(path))
    if problems:
        raise ConfigError.of(problems)
    document = dict(document or {})
    if "fixtures" in document:
        document["fixtures"] = [str(path.parent / p) for p in document["fixtures"]]
    return document


def settings_from(document: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """Settings with the values of a config document applied over `base`."""
    settings = base or Settings()
    changes: dict[str, Any] = {}
    for name in (
        "seed",
        "strict",
        "max_body_bytes",
        "journal_limit",
        "journal_max_bytes",
        "session_limit",
        "session_idle_s",
        "generated_words",
        "stream_usage",
        "ui_write",
        "max_answer_bytes",
        "control_token",
        "watchdog_ms",
        "header_timeout_s",
        "idle_timeout_s",
        "max_connections",
        "fast_path",
    ):
        if name in document:
            changes[name] = document[name]
    if "fixtures" in document:
        changes["fixtures"] = tuple(document["fixtures"])
    if "models" in document:
        changes["catalog"] = Catalog.from_config(document["models"])
    if "keys" in document:
        changes["keys"] = tuple(
            ApiKey(
                key=entry["key"],
                state=entry.get("state", "active"),
                models=tuple(entry.get("models", ())),
                requests_per_minute=entry.get("rate_limit", {}).get("requests_per_minute"),
                tokens_per_minute=entry.get("rate_limit", {}).get("tokens_per_minute"),
                edgee_tool_ids=tuple(entry["edgee_tool_ids"]) if "edgee_tool_ids" in entry else None,
            )
            for entry in document["keys"]
        )
    if "rate_limit" in document:
        changes["rate_limit"] = dict(document["rate_limit"])
    if "faults" in document:
        changes["faults"] = tuple(document["faults"])
    if "edgee_tools" in document:
        changes["edgee_tools"] = tuple(document["edgee_tools"])
    if "outages" in document:
        changes["outages"] = tuple(document["outages"])
    if "clock" in document:
        changes["clock"] = parse_clock(document["clock"])
    if "conversation_rules" in document:
        changes["conversation_rules"] = enabled_rules(document["conversation_rules"])
    return replace(settings, **changes)


def parse_clock(text: str) -> float:
    """An ISO 8601 time (`2026-01-01T00:00:00Z`; no zone means UTC) as Unix seconds; ConfigError if it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"clock: {text!r} is not an ISO 8601 time such as 2026-01-01T00:00:00Z") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def enabled_rules(value: bool | Mapping[str, bool]) -> tuple[str, ...]:
    """The rule names a `conversation_rules` config value turns on (rules left out of a mapping stay on)."""
    if isinstance(value, bool):
        return RULE_NAMES if value else ()
    return tuple(name for name in RULE_NAMES if value.get(name, True))


def _env_int(env: Mapping[str, str], name: str, low: int | None = None, high: int | None = None) -> int:
    """An integer variable, or a ConfigError naming it (`serve` prints one line and exits 2)."""
    text = env[name]
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{name}={value} is out of range ({low} to {high})")
    return value


def _env_flags(env: Mapping[str, str]) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    if env.get("MOCKGW_HOST"):
        flags["host"] = env["MOCKGW_HOST"]
    if env.get("MOCKGW_PORT"):
        flags["port"] = _env_int(env, "MOCKGW_PORT", 0, 65535)
    if env.get("MOCKGW_SEED"):
        flags["seed"] = _env_int(env, "MOCKGW_SEED")
    if env.get("MOCKGW_STRICT"):
        flags["strict"] = env["MOCKGW_STRICT"].lower() in TRUE_WORDS
    if env.get("MOCKGW_FIXTURES"):
        flags["fixtures"] = tuple(env["MOCKGW_FIXTURES"].split(os.pathsep))
    if env.get(CONTROL_TOKEN_ENV):
        flags["control_token"] = env[CONTROL_TOKEN_ENV]
    if "requests" in env.get("MOCKGW_LOG", "").lower().split(","):
        flags["log_requests"] = True
    return flags


def resolve(
    flags: Mapping[str, Any] | None = None,
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults < config file (`config_path`, else MOCKGW_CONFIG) < MOCKGW_* variables < explicit flags.

    `flags` holds only the values the caller set (None values are ignored).
    """
    env = os.environ if env is None else env
    settings = Settings()
    path = config_path or env.get("MOCKGW_CONFIG")
    if path:
        settings = settings_from(read_config(path), settings)
    settings = replace(settings, **_env_flags(env))
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    if "fixtures" in given:
        given["fixtures"] = tuple(given["fixtures"])
    return replace(settings, **given)


def remote_url(env: Mapping[str, str] | None = None) -> str | None:
    """The root URL of an already running `mockgw serve` (MOCKGW_URL), for the pytest plugin to use instead."""
    env = os.environ if env is None else env
    return env.get("MOCKGW_URL") or None


def control_token(env: Mapping[str, str] | None = None) -> str | None:
    """The control token a client of a running `mockgw serve` sends (MOCKGW_CONTROL_TOKEN), or None."""
    env = os.environ if env is None else env
    return env.get(CONTROL_TOKEN_ENV) or None


def env_set_fields(env: Mapping[str, str] | None = None) -> set[str]:
    """The Settings fields the MOCKGW_* variables set (so a caller can let them win over its own options)."""
    return set(_env_flags(os.environ if env is None else env))
