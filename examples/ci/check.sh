#!/bin/sh
# A CI step in plain shell: start a strict mockgw, run the application, and fail on what mockgw saw go wrong.
# GET /__mockgw/problems is the single truth: strict-mode misses, invalid requests, refused fixtures, mockgw's
# own errors. MOCKGW is the command (default `mockgw`); MOCKGW_ARGS adds options (e.g. --fixtures fixtures/).
set -eu
MOCKGW=${MOCKGW:-mockgw}
log=$(mktemp)
# shellcheck disable=SC2086 # MOCKGW and MOCKGW_ARGS are word lists on purpose
$MOCKGW serve --strict --port 0 ${MOCKGW_ARGS:-} >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 300); do grep -q serving "$log" && break; sleep 0.1; done
url=$(sed -n 's/.* serving \(http:[^ ]*\)\/v1 .*/\1/p' "$log")
[ -n "$url" ] || { echo "mockgw did not start:" >&2; cat "$log" >&2; exit 2; }

# The application under test; here one request that no fixture scripts.
curl -s -o /dev/null -w "the client got %{http_code}\n" "$url/v1/chat/completions" \
  -H "Authorization: Bearer sk-ci" -H "Content-Type: application/json" \
  -d '{"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "nobody scripted this"}]}'

problems=$(curl -sf "$url/__mockgw/problems")
case "$problems" in
  *'"problems": []'*) echo "mockgw saw no problems" ;;
  *) echo "mockgw saw problems: $problems" >&2; exit 1 ;;
esac
