"""Names the layers share: the session header, the control endpoint's path prefix, the words that mean "true"."""

from __future__ import annotations

# Header names are case-insensitive; the server reads it through aiohttp's case-insensitive headers.
SESSION_HEADER = "x-mockgw-session"
CONTROL_PREFIX = "/__mockgw"
TRUE_WORDS = ("1", "true", "yes", "on")  # environment variables and ini options that switch a flag on
