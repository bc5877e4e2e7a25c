"""A tiny async application: a travel assistant on the `openai` SDK pointed at the Edgee gateway.

It knows nothing about mockgw: `AsyncOpenAI()` reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment.
"""

from __future__ import annotations

import asyncio
import json

from openai import AsyncOpenAI

MODEL = "openai/gpt-4o"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Today's weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def get_weather(city: str) -> str:
    """The application's own tool (a real app would call a weather service)."""
    return f"22C and sunny in {city}"


async def stream_tip(destination: str) -> str:
    """A travel tip, streamed token by token and joined."""
    client = AsyncOpenAI()
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": f"One travel tip for {destination}"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    return "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])


async def tips(destinations: list[str]) -> list[str]:
    """Tips for several destinations, asked concurrently."""
    return list(await asyncio.gather(*(stream_tip(d) for d in destinations)))


async def weather_report(question: str) -> str:
    """Let the model call `get_weather`, run it, and return the model's final answer."""
    client = AsyncOpenAI()
    messages: list[dict] = [{"role": "user", "content": question}]
    first = await client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    message = first.choices[0].message
    if not message.tool_calls:
        return message.content or ""
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls:
        result = get_weather(**json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    final = await client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    return final.choices[0].message.content or ""
