"""The two families of errors: wire errors (values sent to clients) and harness errors (raised in tests)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from mockgw.core.explain import Problem, lines
from mockgw.core.frozen import frozen

# The gateway's own code, type and message for an error status when a fixture gives only the status.
GATEWAY_ERRORS: Mapping[int, tuple[str, str, str]] = {
    400: ("invalid_request", "invalid_request_error", "Invalid request."),
    401: ("unauthorized", "authentication_error", "Missing Authorization header"),
    403: ("forbidden", "permission_error", "API key is inactive"),
    404: ("not_found", "not_found_error", "The requested resource doesn't exist."),
    405: ("method_not_allowed", "invalid_request_error", "Method not allowed."),
    413: ("request_too_large", "invalid_request_error", "Request body is too large."),
    429: ("usage_limit_exceeded", "rate_limit_error", "Usage limit exceeded: 1000.00 / 1000 tokens used"),
    500: ("internal_error", "server_error", "An internal error occurred. Please try again later."),
    502: (
        "provider_error",
        "provider_error",
        "The upstream provider returned an error. Please try again later.",
    ),
    503: (
        "service_unavailable",
        "server_error",
        "The service is temporarily unavailable. Please try again later.",
    ),
    504: ("gateway_timeout", "server_error", "The upstream provider timed out. Please try again later."),
}


@frozen
class ApiError:
    """An error answer in the documented envelope `{"error": {"code", "message", "type", "param"}}`."""

    status: int
    code: str
    message: str
    type: str
    param: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def envelope(self) -> dict[str, Any]:
        """The JSON body the gateway sends."""
        return {"error": {"code": self.code, "message": self.message, "type": self.type, "param": self.param}}

    def body(self) -> bytes:
        return json.dumps(self.envelope(), separators=(",", ":")).encode()


def gateway_error(
    status: int,
    code: str | None = None,
    message: str | None = None,
    type: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ApiError:
    """An error with the gateway's defaults for `status` filling whatever is not given."""
    default_code, default_type, default_message = GATEWAY_ERRORS.get(
        status, ("error", "server_error" if status >= 500 else "invalid_request_error", f"HTTP {status}")
    )
    return ApiError(
        status=status,
        code=code or default_code,
        message=message or default_message,
        type=type or default_type,
        param=param,
        headers=dict(headers or {}),
    )


def invalid_request(message: str, param: str | None = None, code: str = "invalid_request") -> ApiError:
    """A 400 `invalid_request_error`."""
    return ApiError(400, code, message, "invalid_request_error", param)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, "authentication_error")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message, "permission_error")


def not_found(message: str, code: str = "not_found") -> ApiError:
    return ApiError(404, code, message, "not_found_error")


def internal_error() -> ApiError:
    return gateway_error(500)


class MockgwError(Exception):
    """Base class of the errors raised in the user's process (never sent on the wire)."""


class FixtureError(MockgwError):
    """Fixtures or fault rules that cannot be loaded: every mistake, each as `source: path: message`.

    `source`, `fixture` (the fixture's name, or `fault rule NAME`), `field_path` (inside that fixture) and `problem`
    describe the first mistake; `problems` holds them all.
    """

    def __init__(
        self, source: str, fixture: str | None, field_path: str, problem: str, problems: Sequence[Problem] = ()
    ) -> None:
        kind = "fixture" if fixture and not fixture.startswith("fault rule ") else ""
        self.problems = tuple(problems) or (Problem(source, field_path, problem, fixture, field_path, kind),)
        self.source = source
        self.fixture = fixture
        self.field_path = field_path
        self.problem = problem
        super().__init__(lines(self.problems))

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> FixtureError:
        """The error of a document with these (one or more) problems."""
        first = problems[0]
        item = f"{first.kind} {first.item}" if first.kind == "fault rule" else first.item
        return cls(first.source, item, first.field, first.message, problems)


class ConfigError(MockgwError):
    """A configuration file or option that cannot be used; `problems` holds every mistake of a config file."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(message)

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> ConfigError:
        return cls(lines(problems), problems)
