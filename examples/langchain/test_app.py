"""Testing a LangChain chain against mockgw."""

from __future__ import annotations

import app


def test_blurb(mockgw):
    mockgw.add(
        {
            "name": "teapot",
            "match": {"system": "product blurbs", "last_user_message": "teapot"},
            "reply": {"content": "A cast-iron teapot that keeps your tea hot for an hour."},
        }
    )
    assert app.blurb("a cast-iron teapot") == "A cast-iron teapot that keeps your tea hot for an hour."
    assert app.streamed_blurb("a cast-iron teapot") == "A cast-iron teapot that keeps your tea hot for an hour."
    first, second = mockgw.assert_called(2, fixture="teapot")
    assert first.messages[0] == {"role": "system", "content": "You write one-line product blurbs for an online shop."}
    assert second.body["stream"] is True
