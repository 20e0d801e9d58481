-- One wrk script for every case (wrk takes a single script).
--   BENCH_POST=1          POST a new usuario per request, its email unique across
--                         threads and runs (BENCH_RUN_ID), so each one is a real 201.
--   BENCH_RANDOM_AFTER=N  append a number drawn from 0..N to the URL per request:
--                         a page anywhere in the table (the URL ends in after=).
-- Every response that is not 2xx counts as an error, and done() prints one
-- JSON line that bench/loadgen.py parses: wrk's own summary only counts >= 400.
-- It includes the latency distribution, so percentiles can be taken over
-- several runs together.

local post = os.getenv("BENCH_POST") == "1"
local run_id = os.getenv("BENCH_RUN_ID") or "run"
local random_after = tonumber(os.getenv("BENCH_RANDOM_AFTER") or "")
local QUANTILES = 1000
local threads = {}
-- Globals, not locals: done() reads them from each thread with thread:get().
sent = 0
not_2xx = 0

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

if post then
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"

   function request()
      sent = sent + 1
      local body = string.format(
         '{"nome": "Bench %d-%d", "email": "bench-%s-%d-%d@example.com"}',
         thread_id, sent, run_id, thread_id, sent)
      return wrk.format(nil, nil, nil, body)
   end
elseif random_after then
   function init(args)
      math.randomseed(os.time() * 100 + thread_id)
   end

   function request()
      return wrk.format(nil, wrk.path .. math.random(0, random_after))
   end
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      not_2xx = not_2xx + 1
   end
end

-- The latency distribution as QUANTILES evenly spaced quantiles (wrk's Lua
-- gives percentiles, not its histogram), for pooling runs (bench/loadgen.py).
local function quantiles(latency)
   local values = {}
   for i = 0, QUANTILES - 1 do
      table.insert(values, string.format("%d", latency:percentile((i + 0.5) * 100 / QUANTILES)))
   end
   return "[" .. table.concat(values, ", ") .. "]"
end

function done(summary, latency, requests)
   local rejected = 0
   for _, thread in ipairs(threads) do
      rejected = rejected + thread:get("not_2xx")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "not_2xx": %d, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
         .. '"p50_us": %d, "p99_us": %d, "quantiles_us": %s}\n',
      summary.requests, summary.duration, summary.bytes, rejected,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(99), quantiles(latency)))
end
