-- One wrk script for every workload of bench/run and every server, so that
-- Roster and the reference server receive the same requests: the same
-- headers, the same bodies, the same random choices.
--
-- Arguments (after `--` on the wrk command line), from bench/harness.py:
--   1 method   2 path template   3 body template ("" = no body)
--   4 file of user ids, one a line   5 number of seeded users
--   6 run tag (unique per wrk invocation)
-- The bearer token comes in the environment (BENCH_TOKEN), not on the
-- command line where every process listing would show it.
--
-- Placeholders, each drawn once per request (a template may repeat one):
--   __ID__   a random seeded user's id
--   __I__    a random seeded user's index, 7 digits (matches its userName)
--   __MID__  the id of one of the first 100 users, members of every sized group
--   __U__    a token unique to this request: run tag, thread, counter
--   __BOOL__ false / true, alternating per thread

local thread_count = 0

-- Runs in the main Lua state, once per thread, before the threads start.
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_no", thread_count)
end

local method, path, body, tag
local ids = {}
local users = 0
local counter = 0
local flip = false
local needs = {}

local function load_ids(file)
  local out = {}
  local f = assert(io.open(file, "r"), "cannot open " .. file)
  for line in f:lines() do
    if #line > 0 then out[#out + 1] = line end
  end
  f:close()
  return out
end

function init(args)
  method, path, body = args[1], args[2], args[3]
  if body == "" then body = nil end
  local all = path .. (body or "")
  for _, k in ipairs({ "ID", "I", "MID", "U", "BOOL" }) do
    needs[k] = all:find("__" .. k .. "__", 1, true) ~= nil
  end
  if needs.ID or needs.MID then ids = load_ids(args[4]) end
  users = tonumber(args[5])
  tag = args[6]
  wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN unset")
  wrk.headers["Accept"] = "application/scim+json"
  if body then wrk.headers["Content-Type"] = "application/scim+json" end
  -- Distinct random streams per thread; the ids drawn need not repeat
  -- across runs, only be spread over the whole data set.
  math.randomseed(os.time() * 1000 + (thread_no or 0))
end

function request()
  counter = counter + 1
  flip = not flip
  local v = {}
  if needs.ID then v.ID = ids[math.random(#ids)] end
  if needs.I then v.I = string.format("%07d", math.random(users) - 1) end
  if needs.MID then v.MID = ids[math.random(math.min(100, #ids))] end
  if needs.U then v.U = tag .. "-" .. (thread_no or 0) .. "-" .. counter end
  if needs.BOOL then v.BOOL = flip and "false" or "true" end
  local p = path:gsub("__(%u+)__", v)
  local b = body and body:gsub("__(%u+)__", v) or nil
  return wrk.format(method, p, nil, b)
end

-- Runs in the main state after the run: one machine-readable line.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,' ..
    '"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max))
end
