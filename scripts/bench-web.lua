-- wrk script for scripts/bench-web: POST RFC 8058 one-click unsubscribes,
-- each thread walking its own share of the pre-signed paths in $PATHS
-- (line i belongs to thread i mod threads), so no path is sent twice
-- unless a thread runs out, which the summary reports as `wrapped`.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  paths, ok, other, wrapped, pos = {}, 0, 0, 0, 0
  local n, i = tonumber(os.getenv("THREADS")), 0
  for line in io.lines(os.getenv("PATHS")) do
    if i % n == id then paths[#paths + 1] = line end
    i = i + 1
  end
end

function request()
  pos = pos + 1
  if pos > #paths then pos, wrapped = 1, wrapped + 1 end
  return wrk.format("POST", paths[pos],
    { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "List-Unsubscribe=One-Click")
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local oks, others, wraps = 0, 0, 0
  for _, t in ipairs(threads) do
    oks = oks + t:get("ok")
    others = others + t:get("other")
    wraps = wraps + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d ok=%d non200=%d connect=%d read=%d write=%d timeout=%d wrapped=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, oks, others, e.connect, e.read, e.write, e.timeout, wraps,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
