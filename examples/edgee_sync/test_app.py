"""Testing the help-desk bot against mockgw: no server to start, no change to the application."""

from __future__ import annotations

import app
import pytest


@pytest.mark.mockgw(fixtures="fixtures.yaml")
def test_opening_hours_come_from_the_fixture_file(mockgw):
    assert app.answer("When are you open?") == "We are open from 7am to 6pm, Tuesday to Sunday."
    call = mockgw.assert_called(1, fixture="opening-hours")[0]
    assert call.model == "openai/gpt-4o"
    assert call.messages[0]["role"] == "system"


def test_streamed_answer_reassembles(mockgw):
    mockgw.add(
        {
            "name": "croissant",
            "match": {"last_user_message": "croissant"},
            "reply": {"content": "Yes, butter croissants daily."},
        }
    )
    assert app.stream_answer("Do you sell croissants?") == "Yes, butter croissants daily."
    mockgw.assert_all_fixtures_used()


def test_a_rate_limit_reaches_the_application(mockgw):
    mockgw.add(
        """
        name: busy
        reply:
          error: {status: 429, message: "Rate limit exceeded"}
        """
    )
    with pytest.raises(RuntimeError, match="API error 429"):  # how the edgee SDK reports it
        app.answer("Anything?")
    mockgw.assert_called(1, fixture="busy")


@pytest.mark.mockgw(fixtures="fixtures.yaml", strict=True)
def test_strict_mode_catches_questions_nobody_scripted(mockgw):
    assert "7am" in app.answer("Are you open on Monday?")
    mockgw.assert_no_unmatched()
