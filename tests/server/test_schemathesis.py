"""schemathesis, from the official OpenAPI document, against a real mockgw on 127.0.0.1 (issue 11, item 9).

The CLI runs as a subprocess with a fixed seed and a bounded number of cases per operation (its examples, coverage
and fuzzing phases; valid and invalid requests), and writes its NDJSON report. The test then reads every failed
check and keeps only those docs/conformance.md does not explain:

- a 5xx, or an answer outside the OpenAPI (status, Content-Type, headers, JSON body): never explained, except a
  stream's events, which the OpenAPI types as one binary string;
- a schema-valid request refused: explained when its message is a refusal listed in docs/conformance.md;
- a schema-violating request accepted: explained when it passes mockgw's own request schema (the overlay, whose
  leniencies docs/conformance.md lists) and its typed headers pass mockgw's header check.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockgw.gateway.validation import Validators, check_headers
from mockgw.server.runner import MockGateway
from tests.conftest import API_KEY

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "mockgw" / "schemas" / "openapi" / "edgee-openapi-2026-08-17.json"
CONFORMANCE = REPO / "docs" / "conformance.md"
SEED = 20260817
# Cases per operation for the fuzzing phase (the examples and coverage phases add their own): 7 operations run in
# about 40 s on a quiet 2-core machine, well inside the suite's budget.
MAX_EXAMPLES = 25
WORKERS = "2"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
)
# The request schema mockgw validates each operation's body with.
REQUEST_SCHEMAS = {
    "POST /v1/chat/completions": "chat_request",
    "POST /v1/messages": "messages_request",
    "POST /v1/messages/count_tokens": "messages_count_tokens_request",
    "POST /v1/responses": "responses_request",
    "POST /v1/count_tokens": "count_tokens_request",
    "POST /v1/compress": "compress_request",
}


@dataclass(frozen=True)
class Failure:
    """One failed check of one case, as the NDJSON report records it."""

    operation: str
    check: str
    title: str
    case: Mapping[str, Any]
    status: int | None
    content_type: str
    body: str

    @property
    def error_message(self) -> str:
        try:
            return str(json.loads(self.body)["error"]["message"])
        except (ValueError, KeyError, TypeError):
            return ""

    def __str__(self) -> str:
        sent = {k: self.case.get(k) for k in ("headers", "query", "body") if self.case.get(k)}
        return f"{self.operation} {self.check} ({self.title}): {self.status} {self.body[:300]!r}\n  sent {sent!r:.600}"


def documented_refusals() -> list[re.Pattern[str]]:
    """The messages of docs/conformance.md's refusal table (first cell, `…` = any text), as patterns."""
    text = CONFORMANCE.read_text(encoding="utf-8")
    section = text.split("## Schema-valid requests mockgw refuses", 1)[1].split("\n## ", 1)[0]
    patterns = []
    for line in section.splitlines():
        cell = re.match(r"\| `([^`]+)` \|", line)
        if cell:
            patterns.append(re.compile(".*".join(re.escape(part) for part in cell.group(1).split("…")), re.S))
    return patterns


def failures(report: Path) -> Iterator[Failure]:
    for line in report.read_text(encoding="utf-8").splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished or not finished["recorder"].get("checks"):
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder["checks"].items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                response = (recorder.get("interactions") or {}).get(case_id, {}).get("response") or {}
                content = response.get("content") or {}
                body = base64.b64decode(content["$base64"]).decode("utf-8", "replace") if "$base64" in content else ""
                yield Failure(
                    operation=recorder["label"],
                    check=check["name"],
                    title=check["failure_info"]["failure"]["title"],
                    case=recorder["cases"][case_id]["value"],
                    status=response.get("status_code"),
                    content_type=(response.get("headers") or {}).get("content-type", [""])[0],
                    body=body,
                )


def cases(report: Path) -> dict[str, int]:
    """How many requests the run sent, by operation."""
    sent: dict[str, int] = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished:
            label = finished["recorder"]["label"]
            sent[label] = sent.get(label, 0) + len(finished["recorder"].get("cases") or {})
    return sent


def errors(report: Path) -> list[str]:
    """The run's errors (a request that got no answer, a schema it could not use), as JSON. Hypothesis's
    `FlakyFailure` inside schemathesis's own example extraction (seen once in 5,000 cases on a loaded machine, never
    about an answer) is schemathesis's, not mockgw's, and is left out."""
    found = []
    for line in report.read_text(encoding="utf-8").splitlines():
        error = json.loads(line).get("NonFatalError")
        if error and error["value"]["type"] != "FlakyFailure":
            found.append(json.dumps(error)[:1000])
    return found


def explained(failure: Failure, refusals: list[re.Pattern[str]], validators: Validators) -> bool:
    """Whether docs/conformance.md accounts for this failed check (see the module docstring)."""
    if failure.check == "positive_data_acceptance":
        return failure.status == 400 and any(p.fullmatch(failure.error_message) for p in refusals)
    if failure.check == "negative_data_rejection":
        schema = REQUEST_SCHEMAS.get(failure.operation)
        headers = {str(k).lower(): str(v) for k, v in (failure.case.get("headers") or {}).items()}
        body_ok = schema is None or validators.check(schema, failure.case.get("body")) is None
        return body_ok and check_headers(headers) is None
    if failure.check == "response_schema_conformance":
        return failure.content_type.startswith("text/event-stream") and failure.title == "SSE event violates schema"
    return False


def run_schemathesis(url: str, out: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        str(REPO / "tests" / "support" / "schemathesis_cli.py"),  # schemathesis's CLI, threads made safe
        "run",
        str(SPEC),
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {API_KEY}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        WORKERS,
        "--no-shrink",
        "--continue-on-failure",
        "--request-timeout",
        "10",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(out),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=out.parent, check=False)


def test_schemathesis_finds_nothing_the_docs_do_not_explain(
    gateway_factory: Callable[..., MockGateway], tmp_path: Path
) -> None:
    gateway = gateway_factory(fixtures=("fixtures",))
    report = tmp_path / "schemathesis.ndjson"
    run = run_schemathesis(gateway.url, report)
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    sent = cases(report)
    assert set(sent) == {*REQUEST_SCHEMAS, "GET /v1/models"}, run.stdout[-3000:]
    assert all(count >= MAX_EXAMPLES for count in sent.values()), sent
    assert errors(report) == []
    refusals = documented_refusals()
    validators = Validators.load(tuple(REQUEST_SCHEMAS.values()))
    unexplained = [str(f) for f in failures(report) if not explained(f, refusals, validators)]
    assert unexplained == [], f"{len(unexplained)} unexplained:\n" + "\n".join(unexplained[:20])
