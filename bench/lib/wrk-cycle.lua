-- wrk script: cycles through pre-rendered raw HTTP requests and prints a JSON summary.
-- Usage: wrk -t1 -c50 -d10s -s wrk-cycle.lua http://127.0.0.1:PORT -- <requests-file>
-- The requests file is a sequence of "<byte length>\n<raw request bytes>".
local requests = {}
local index = 0

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    if not nl then break end
    local len = tonumber(string.sub(data, pos, nl - 1))
    requests[#requests + 1] = string.sub(data, nl + 1, nl + len)
    pos = nl + 1 + len
  end
  -- Start each thread at a different offset.
  index = math.random(#requests) - 1
end

function request()
  index = (index % #requests) + 1
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
