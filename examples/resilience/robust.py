"""The same support bot, written to survive a bad day at the gateway.

- a timeout of its own (ROBUST_TIMEOUT seconds, default 5) on connecting and between two stream events;
- retries (at most 3) after a 429/5xx, waiting what `Retry-After` says (when it is at most 10 s; a longer wait
  means the budget is gone: it gives up and says so), else a short backoff; after a dropped connection or timeout;
- reads the stream itself and re-asks when it is cut, holds an event that is not JSON or an error event, ends
  without `[DONE]`, or ends without a finish reason: a truncated answer is never shown as a whole one.
"""

import json
import os
import sys
import time

import openai

QUESTION = "When are you open?"
ATTEMPTS = 4
MAX_WAIT = 10.0


class Truncated(Exception):
    """The stream did not end as a complete answer."""


def ask(client: openai.OpenAI) -> str:
    """One streamed answer, read event by event; raises Truncated unless it ends properly."""
    with client.chat.completions.with_streaming_response.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": QUESTION}], stream=True
    ) as response:
        try:
            return read_stream(response.iter_lines())
        except Truncated:
            raise
        except Exception as error:  # the SDK lets its HTTP library's errors through mid-stream
            raise Truncated(f"the stream broke: {error!r}") from error


def read_stream(lines) -> str:
    """The text of a chat completions stream, checked: complete, every event JSON, a finish reason, [DONE]."""
    parts, finish, done = [], None, False
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank lines between events, `: keep-alive` comments
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            raise Truncated("an event that is not JSON") from None
        if "error" in chunk:
            raise Truncated(f"an error event: {chunk['error'].get('message')}")
        for choice in chunk.get("choices", []):
            parts.append((choice.get("delta") or {}).get("content") or "")
            finish = choice.get("finish_reason") or finish
    if not done or finish is None:
        raise Truncated("the stream ended without [DONE]" if not done else "the stream had no finish reason")
    return "".join(parts)


def wait_before_retry(error: Exception, attempt: int) -> float:
    """Seconds to wait before the next attempt: Retry-After when the gateway sent it, else a short backoff."""
    if isinstance(error, openai.APIStatusError):
        header = error.response.headers.get("retry-after")
        if header is not None:
            return float(header)
    return 0.2 * 2**attempt


def main() -> int:
    client = openai.OpenAI(max_retries=0, timeout=float(os.environ.get("ROBUST_TIMEOUT", "5")))
    for attempt in range(ATTEMPTS):
        try:
            print(f"bot: {ask(client)}")
            return 0
        except openai.APIStatusError as error:
            if error.status_code != 429 and error.status_code < 500:
                raise
            problem: Exception = error
        except (openai.APIConnectionError, Truncated) as error:
            problem = error
        wait = wait_before_retry(problem, attempt)
        if wait > MAX_WAIT:
            print(f"bot: sorry, the assistant is over its budget (retry in {wait:g} s)", file=sys.stderr)
            return 1
        print(f"retrying in {wait:g} s after {type(problem).__name__}: {problem}", file=sys.stderr)
        time.sleep(wait)
    print("bot: sorry, the assistant is unavailable right now", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
