-- once.lua — send prepared requests, each exactly once (checkout and sign-in
-- forms are single-use: a second post of a checkout form answers with the
-- order the first one placed), and count the answers.
--
--   wrk -t2 -c128 -d10s -s bench/wrk/once.lua https://127.0.0.1:PORT/ -- FILE HOST ORIGIN THREADS [close|rotate=N]
--
-- FILE has one prepared request per line, tab-separated:
--   METHOD  PATH  COOKIE  BODY          (BODY form-urlencoded, "" for none)
-- HOST is sent as Host (e.g. localhost:36443), ORIGIN as Origin on requests
-- with a body (e.g. https://localhost:36443), THREADS is wrk's -t. "close"
-- sends every request with Connection: close: each on a connection of its own
-- (with bench/wrk/srcaddr.c, from an address of its own: one client, one
-- request, as sign-ins come). "rotate=N" sends every N-th request of a wrk
-- thread with Connection: close, so a connection lives for about N requests
-- (at random: Lua cannot tell wrk's connections apart) and then comes back
-- from a new address: no address collects more than a few dozen requests,
-- however unevenly wrk's connections happen to be served, and nginx's
-- per-address burst is never what is measured. wrk thread k (of n) sends lines
-- k, k+n, k+2n ...; a thread that has sent all of its lines stops itself
-- (its own connections' answers still in flight are then not counted, as at
-- the end of -d). wrk's own "Requests/sec" divides by -d even when the lines
-- ran out earlier, so done() prints its own figures on one line:
--
--   ONCE {"answered":N,"secs":S,"status":{"303":n,...},"sold_out":n,"only_left":n,
--         "location":{"/orders":n,...},"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..,
--         "unsent":n,"errors":{...}}
--
-- secs runs from the first request written by any thread to the last answer
-- read (CLOCK_MONOTONIC through LuaJIT's ffi), so answered/secs is the rate
-- over the time the load really ran. Latency percentiles are wrk's (write of
-- the request to the end of its answer).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } once_timespec;
int clock_gettime(int clk, once_timespec *ts);
]]
local ts = ffi.new("once_timespec")
local function now()
   ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads - 1)
end

local function split(line)
   local out = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(out, field)
   end
   return out
end

function init(args)
   local file, host, origin = args[1], args[2], args[3]
   local nthreads = tonumber(args[4] or "0")
   local close = args[5] == "close"
   rotate = tonumber((args[5] or ""):match("^rotate=(%d+)$") or "0")
   reqs, sent, answered = {}, 0, 0
   status, location = {}, {}
   sold_out, only_left, t_first, t_last = 0, 0, 0, 0
   local i = 0
   for line in io.lines(file) do
      if line ~= "" then
         if i % nthreads == tid then
            local f = split(line)
            local headers = {Host = host}
            if close then headers["Connection"] = "close" end
            if f[3] and f[3] ~= "" then headers["Cookie"] = f[3] end
            local body = f[4]
            if body and body ~= "" then
               headers["Origin"] = origin
               headers["Content-Type"] = "application/x-www-form-urlencoded"
            else
               body = nil
            end
            table.insert(reqs, wrk.format(f[1], f[2], headers, body))
         end
         i = i + 1
      end
   end
   total = #reqs
   filler = wrk.format("GET", "/healthz", {Host = host})
end

function request()
   if sent >= total then
      -- this thread's share is used up: never send a form twice
      wrk.thread:stop()
      return filler
   end
   sent = sent + 1
   if t_first == 0 then t_first = now() end
   if rotate > 0 and sent % rotate == 0 then
      return (reqs[sent]:gsub("\r\n", "\r\nConnection: close\r\n", 1))
   end
   return reqs[sent]
end

function response(st, headers, body)
   answered = answered + 1
   t_last = now()
   local k = tostring(st)
   status[k] = (status[k] or 0) + 1
   if st == 409 and body then
      if body:find("sold out", 1, true) then sold_out = sold_out + 1 end
      if body:find("left of", 1, true) then only_left = only_left + 1 end
   end
   local loc = headers["Location"] or headers["location"]
   if loc then
      local p = loc:match("^(/[^/?]*)") or loc
      location[p] = (location[p] or 0) + 1
   end
   if answered >= total then wrk.thread:stop() end
end

local function json(v)
   if type(v) == "table" then
      local parts = {}
      for key, val in pairs(v) do
         table.insert(parts, string.format("%q:%s", tostring(key), json(val)))
      end
      return "{" .. table.concat(parts, ",") .. "}"
   elseif type(v) == "number" then
      return (string.format("%.6f", v):gsub("%.?0+$", ""))
   end
   return string.format("%q", tostring(v))
end

function done(summary, latency, requests)
   local out = {answered = 0, status = {}, location = {}, sold_out = 0, only_left = 0, unsent = 0}
   local t0, t1 = nil, nil
   for _, t in ipairs(threads) do
      out.answered = out.answered + (t:get("answered") or 0)
      out.sold_out = out.sold_out + (t:get("sold_out") or 0)
      out.only_left = out.only_left + (t:get("only_left") or 0)
      out.unsent = out.unsent + (t:get("total") or 0) - (t:get("sent") or 0)
      for k, n in pairs(t:get("status") or {}) do out.status[k] = (out.status[k] or 0) + n end
      for k, n in pairs(t:get("location") or {}) do out.location[k] = (out.location[k] or 0) + n end
      local a, b = t:get("t_first") or 0, t:get("t_last") or 0
      if a > 0 and (not t0 or a < t0) then t0 = a end
      if b > 0 and (not t1 or b > t1) then t1 = b end
   end
   out.secs = (t0 and t1 and t1 > t0) and (t1 - t0) or 0
   out.p50_us = latency:percentile(50.0)
   out.p90_us = latency:percentile(90.0)
   out.p99_us = latency:percentile(99.0)
   out.max_us = latency.max
   out.errors = {connect = summary.errors.connect, read = summary.errors.read, write = summary.errors.write,
                 status = summary.errors.status, timeout = summary.errors.timeout}
   io.write("ONCE " .. json(out) .. "\n")
end
