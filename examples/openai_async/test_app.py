"""Testing the async travel assistant against mockgw: the server runs in its own thread, the test in its loop."""

from __future__ import annotations

import app
import pytest

TIPS = """
version: 1
fixtures:
  - name: lisbon
    match: {last_user_message: Lisbon}
    reply: {content: "Take tram 28 early in the morning."}
  - name: kyoto
    match: {last_user_message: Kyoto}
    reply: {content: "Visit Fushimi Inari at dawn."}
"""


@pytest.mark.asyncio
async def test_streamed_tips_for_two_cities_at_once(mockgw):
    mockgw.add(TIPS)
    assert await app.tips(["Lisbon", "Kyoto"]) == ["Take tram 28 early in the morning.", "Visit Fushimi Inari at dawn."]
    mockgw.assert_all_fixtures_used()
    assert all(call.body["stream"] for call in mockgw.calls)


@pytest.mark.asyncio
async def test_tool_call_round_trip(mockgw):
    mockgw.add(
        {
            "name": "weather",
            "match": {"tools": ["get_weather"]},
            "replies": [
                {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Porto"}}]},
                {"content": "It is 22C and sunny in Porto: bring sunglasses."},
            ],
        }
    )
    assert await app.weather_report("Weather in Porto?") == "It is 22C and sunny in Porto: bring sunglasses."
    first, second = mockgw.assert_called(2, fixture="weather")
    assert first.tools == ("get_weather",)
    assert second.messages[-1] == {
        "role": "tool",
        "tool_call_id": second.messages[-2]["tool_calls"][0]["id"],
        "content": "22C and sunny in Porto",
    }


@pytest.mark.asyncio
@pytest.mark.mockgw(strict=True)
async def test_an_unscripted_question_fails_loudly(mockgw):
    mockgw.add({"name": "lisbon", "match": {"last_user_message": "Lisbon"}, "reply": {"content": "Tram 28."}})
    assert await app.stream_tip("Lisbon") == "Tram 28."
