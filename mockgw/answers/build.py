"""From a fixture's ReplySpec (or nothing) to a concrete Reply for one request: pure and seeded."""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Mapping
from dataclasses import replace

from mockgw.answers.budget import Limits
from mockgw.core import tokens
from mockgw.core.conversation import Conversation, ToolCall
from mockgw.core.errors import ApiError, gateway_error
from mockgw.core.reply import Reply, Usage
from mockgw.faults.kinds.error import ErrorFault
from mockgw.fixtures.load import ReplySpec, ToolCallSpec

_ALNUM = string.ascii_letters + string.digits


def random_id(rng: random.Random, prefix: str, length: int = 24) -> str:
    """An id like the real ones (`chatcmpl-…`, `call_…`), drawn from the seeded generator."""
    # one `choices` call, not `length` calls of `choice` (docs/bench.md); still a pure function of the seed
    return prefix + "".join(rng.choices(_ALNUM, k=length))


# byte -> one of _ALNUM: turns a digest into id characters in one C call (b % 62: a slight bias, harmless for ids)
_ID_TABLE = bytes(ord(_ALNUM[b % len(_ALNUM)]) for b in range(256))


def seeded_id(key: str, prefix: str, length: int = 24) -> str:
    """An id like `random_id`'s, derived from `key` (seed, session, sequence): no generator to seed."""
    digest = hashlib.blake2b(key.encode(), digest_size=length).digest()
    return prefix + digest.translate(_ID_TABLE).decode("ascii")


def scripted(spec: ReplySpec) -> bool:
    """True when the spec scripts the answer (content, tool calls or a refusal) rather than generating it."""
    return spec.has_content or bool(spec.tool_calls) or spec.refusal is not None


def draws_ids(spec: ReplySpec | None) -> bool:
    """Whether `build` draws tool-call ids from its generator: generated answers and scripted calls without an id."""
    return spec is None or not scripted(spec) or (bool(spec.tool_calls) and any(not c.id for c in spec.tool_calls))


def prompt_tokens(conv: Conversation) -> int:
    """Prompt tokens by the one tokenizer (kept for callers; `tokens.count_conversation` is the function)."""
    return tokens.count_conversation(conv)


def template_values(conv: Conversation, captures: Mapping[str, str]) -> dict[str, str]:
    """What `{{ name }}` placeholders can insert: the request values (see templates.REQUEST_NAMES) and captures."""
    tool_result = next((m.text for m in reversed(conv.messages) if m.role == "tool"), "")
    return {
        "request.model": conv.model,
        "request.tags": ",".join(conv.tags),
        "request.endpoint": conv.endpoint,
        "tool_result": tool_result,
        "last_user_message": conv.last_user_message or "",
        **captures,
    }


def render_templates(spec: ReplySpec, conv: Conversation, captures: Mapping[str, str]) -> ReplySpec:
    """The spec with its templated content and tool-call arguments filled in for this request."""
    if spec.content_template is None and (
        not spec.tool_calls or not any(c.arguments_template for c in spec.tool_calls)
    ):
        return spec
    values = template_values(conv, captures)
    calls = tuple(
        ToolCallSpec(call.name, call.arguments_template.render(values), call.id) if call.arguments_template else call
        for call in spec.tool_calls
    )
    content = spec.content_template.render(values) if spec.content_template else spec.content
    return replace(spec, content=content, tool_calls=calls, content_template=None)


def error_for(spec: ErrorFault) -> ApiError:
    headers = {"Retry-After": _seconds(spec.retry_after)} if spec.retry_after is not None else {}
    return gateway_error(spec.status, spec.code, spec.message, spec.type, spec.param, headers)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


NO_SPEC = ReplySpec()  # no fixture: everything generated


def build(
    spec: ReplySpec | None,
    conv: Conversation,
    rng: random.Random | None,
    seed: int,
    generated_words: int,
    limits: Limits | None = None,
) -> Reply:
    """The reply to send: the fixture's, completed (ids, finish reason, usage), or a generated one.

    `rng` draws the tool-call ids; it may be None when `draws_ids(spec)` is False (seeding one is not free:
    docs/bench.md). A generated answer past `limits` raises budget.BudgetExceeded (the pipeline answers its 400).
    """
    spec = spec or NO_SPEC
    generated_calls: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    if scripted(spec):  # the fixture says what to answer: nothing to generate
        content, generated_calls, warnings = spec.content, (), ()
    else:
        # imported here: generation (jsonschema_rs checks, regex strings, fractions, uuid) is only for fixtures
        # without a scripted answer, and a server that never generates should not pay for it at start-up
        from mockgw.answers import generate

        made = generate.answer(conv, seed, generated_words, spec.generate, limits)
        content, generated_calls, warnings = made.content, made.tool_calls, made.warnings
    calls: tuple[ToolCall, ...] = ()
    if spec.tool_calls or generated_calls:
        calls = tuple(ToolCall(call.id or _call_id(rng), call.name, call.arguments) for call in spec.tool_calls)
        calls += tuple(ToolCall(_call_id(rng), name, arguments) for name, arguments in generated_calls)
    finish = spec.finish_reason
    completion = tokens.count(content) if content else 0
    if content and conv.max_tokens is not None and completion > conv.max_tokens:
        content = tokens.truncate(content, conv.max_tokens)
        finish = finish or "length"
        completion = tokens.count(content) if content else 0
    if finish is None:
        finish = "tool_calls" if calls else ("content_filter" if spec.refusal and not content else "stop")
    if calls:
        completion += sum(tokens.count(c.name + c.arguments) for c in calls)
    if spec.refusal:
        completion += tokens.count(spec.refusal)
    usage_spec = spec.usage
    if usage_spec is None:  # most fixtures: every count computed
        usage = Usage(tokens.count_conversation(conv), completion)
    else:
        usage = Usage(
            prompt_tokens=usage_spec.prompt_tokens if usage_spec.prompt_tokens is not None else prompt_tokens(conv),
            completion_tokens=(
                usage_spec.completion_tokens if usage_spec.completion_tokens is not None else completion
            ),
            cached_tokens=usage_spec.cached_tokens,
            reasoning_tokens=usage_spec.reasoning_tokens,
        )
    return Reply(content, calls, finish, usage, spec.refusal, warnings)  # positional: one per request


def _call_id(rng: random.Random | None) -> str:
    assert rng is not None, "draws_ids(spec) said that no id is drawn"
    return random_id(rng, "call_")
