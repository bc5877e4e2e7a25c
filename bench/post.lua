-- wrk script for `make bench`: POST a realistic chat completion request with an API key.
-- BENCH_STREAM=1 asks for a stream; at the end one line "BENCH_JSON {...}" carries exact numbers (µs).
local stream = os.getenv("BENCH_STREAM") == "1"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-edgee-bench-0123456789abcdef"
wrk.headers["User-Agent"] = "OpenAI/Python 1.54.0"

local messages = [[
{"role":"system","content":"You are a concise assistant for an online bookshop. Answer in two sentences at most, and never invent prices or stock levels."},
{"role":"user","content":"Hello, do you have the second volume of the series I bought last month?"},
{"role":"assistant","content":"Yes, the second volume is in our catalogue. Would you like me to check the delivery options for your address?"},
{"role":"user","content":"Please run the benchmark answer for this order and tell me when it would arrive."}
]]

if stream then
  wrk.body = '{"model":"openai/gpt-4o","messages":[' .. messages .. '],"temperature":0.2,"max_tokens":512,'
    .. '"stream":true,"stream_options":{"include_usage":true}}'
else
  wrk.body = '{"model":"openai/gpt-4o","messages":[' .. messages .. '],"temperature":0.2,"max_tokens":512}'
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"status_errors":%d,"socket_errors":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
