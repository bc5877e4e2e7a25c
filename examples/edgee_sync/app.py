"""A tiny application: a help-desk bot that answers through the Edgee gateway with the official `edgee` SDK.

It knows nothing about mockgw: the SDK reads EDGEE_API_KEY and EDGEE_BASE_URL from the environment.
"""

from __future__ import annotations

from edgee import Edgee

MODEL = "openai/gpt-4o"
SYSTEM = "You are the help desk of a small bakery. Answer in one sentence."


def answer(question: str) -> str:
    """The bot's answer to one question."""
    reply = Edgee().send(
        model=MODEL,
        input={
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
            ]
        },
    )
    return reply.text or ""


def stream_answer(question: str) -> str:
    """The same answer, streamed and put back together (what a chat UI would show)."""
    chunks = Edgee().stream(model=MODEL, input=question)
    return "".join(chunk.text or "" for chunk in chunks)
