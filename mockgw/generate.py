"""Deterministic generated answers: the same seed and the same request give the same text."""

from __future__ import annotations

import hashlib
import json
import random

from mockgw.conversation import Conversation

_WORDS = [
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "as",
    "at",
    "by",
    "from",
    "about",
    "into",
    "over",
    "after",
    "model",
    "gateway",
    "request",
    "answer",
    "token",
    "stream",
    "test",
    "client",
    "server",
    "fixture",
    "message",
    "tool",
    "result",
    "value",
    "system",
    "user",
    "data",
    "response",
    "mock",
    "local",
    "quick",
    "simple",
    "clear",
    "steady",
    "bright",
    "careful",
    "small",
    "large",
    "new",
    "early",
    "late",
    "ready",
    "useful",
    "exact",
    "plain",
    "sends",
    "reads",
    "writes",
    "checks",
    "returns",
    "keeps",
    "makes",
    "takes",
    "gives",
    "shows",
    "finds",
    "builds",
    "runs",
    "waits",
    "answers",
    "today",
    "here",
    "there",
    "again",
    "always",
    "often",
    "never",
    "soon",
    "now",
    "then",
    "still",
    "also",
    "just",
    "only",
    "well",
]


def conversation_key(conv: Conversation) -> str:
    """A stable digest of what the model is asked (model, messages, tools), independent of ids and order of keys."""
    material = {
        "model": conv.model,
        "messages": [
            [m.role, m.text, [[c.name, c.arguments] for c in m.tool_calls], m.tool_call_id] for m in conv.messages
        ],
        "tools": [t.name for t in conv.tools],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def request_rng(seed: int, conv: Conversation, salt: str = "") -> random.Random:
    """A generator seeded by the run's seed and the request's content."""
    return random.Random(f"{seed}:{salt}:{conversation_key(conv)}")


def text(rng: random.Random, words: int) -> str:
    """Plausible sentences of about `words` words."""
    out: list[str] = []
    sentence: list[str] = []
    for _ in range(max(1, words)):
        sentence.append(rng.choice(_WORDS))
        if len(sentence) >= rng.randint(6, 12):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)
