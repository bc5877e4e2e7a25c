"""`mockgw serve --clock`: the gateway clock fixed from the command line, and a bad time refused."""

from __future__ import annotations

import openai
import pytest

from mockgw import cli
from tests.cli.test_cli import serving

NEW_YEAR_UNIX = 1767225600  # 2026-01-01T00:00:00Z


def test_serve_clock_fixes_edge_tool_time_and_created() -> None:
    with serving("--clock", "2026-01-01T00:00:00Z") as (_, line):
        client = openai.OpenAI(base_url=line.group(1), api_key="sk-test", max_retries=0)
        completion = client.chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": "what time is it?"}],
            extra_body={"edgee_tool_ids": ["edgee_current_time"]},
        )
    assert completion.created == NEW_YEAR_UNIX
    assert completion.model_extra is not None
    assert completion.model_extra["edgee_tools_executed"] == [{"name": "edgee_current_time", "success": True}]


def test_serve_refuses_a_clock_that_is_not_a_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--port", "0", "--clock", "soon"]) == 2
    assert "ISO 8601" in capsys.readouterr().err
