-- wrk script: GET /saldo/<random key of 0..KEYS-1>, each connection paced to a fixed rate.
-- Environment: KEYS (how many keys exist), DELAY_MS (pause between a connection's requests; 0 = flat out).
local keys = tonumber(os.getenv("KEYS") or "1000")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

function setup(thread)
  thread:set("seed", math.random(1, 1e9))
end

function init(args)
  math.randomseed(seed)
end

function request()
  return wrk.format("GET", "/saldo/" .. math.random(0, keys - 1))
end

function delay()
  return delay_ms
end

-- One JSON line that the test reads: counts and latency percentiles in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
