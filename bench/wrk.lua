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
  prepare()
end

-- wrk shares the host's cores with the server it measures, so what it
-- spends per request is taken from the server. gsub over the templates
-- and wrk.format over the headers for every request were a measurable
-- share of wrk's CPU (BENCHMARKS.md, "Measurement notes"); so the
-- templates are cut at their placeholders once, the header block is
-- written once, and a request is one concatenation. check() holds the
-- first requests to wrk.format's.
local path_parts, body_parts, head, fixed

local function cut(template)
  local parts, at = {}, 1
  while true do
    local s, e, name = template:find("__(%u+)__", at)
    if not s then break end
    parts[#parts + 1] = template:sub(at, s - 1)
    parts[#parts + 1] = name
    at = e + 1
  end
  parts[#parts + 1] = template:sub(at)
  return parts
end

local function fill_parts(parts, v)
  if #parts == 1 then return parts[1] end
  local out = {}
  for i = 1, #parts do
    out[i] = (i % 2 == 0) and v[parts[i]] or parts[i]
  end
  return table.concat(out)
end

local function build(p, b)
  if b then
    return method .. " " .. p .. " HTTP/1.1\r\n" .. head .. "Content-Length: " .. #b .. "\r\n\r\n" .. b
  end
  return method .. " " .. p .. " HTTP/1.1\r\n" .. head .. "\r\n"
end

local function check(p, b)
  local theirs = wrk.format(method, p, nil, b)
  -- wrk.format lists the headers in table order; compare as sets of lines.
  local function lines(text)
    local set = {}
    local top, rest = text:match("^(.-)\r\n\r\n(.*)$")
    for line in (top .. "\r\n"):gmatch("(.-)\r\n") do set[#set + 1] = line end
    table.sort(set)
    return table.concat(set, "\n") .. "\n\n" .. rest
  end
  assert(lines(build(p, b)) == lines(theirs), "request differs from wrk.format's:\n" .. build(p, b) .. "\n---\n" .. theirs)
end

function prepare()
  path_parts = cut(path)
  body_parts = body and cut(body) or nil
  if not wrk.headers["Host"] then wrk.headers["Host"] = wrk.host end
  local h = {}
  for name, value in pairs(wrk.headers) do
    if name ~= "Content-Length" then h[#h + 1] = name .. ": " .. value .. "\r\n" end
  end
  head = table.concat(h)
  if #path_parts == 1 and not (body_parts and #body_parts > 1) then
    fixed = build(path, body)
  end
end

function request()
  if fixed and counter > 3 then return fixed end
  counter = counter + 1
  flip = not flip
  local v = {}
  if needs.ID then v.ID = ids[math.random(#ids)] end
  if needs.I then v.I = string.format("%07d", math.random(users) - 1) end
  if needs.MID then v.MID = ids[math.random(math.min(100, #ids))] end
  if needs.U then v.U = tag .. "-" .. (thread_no or 0) .. "-" .. counter end
  if needs.BOOL then v.BOOL = flip and "false" or "true" end
  local p = fill_parts(path_parts, v)
  local b = body_parts and fill_parts(body_parts, v) or nil
  if counter <= 3 then check(p, b) end
  return build(p, b)
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
